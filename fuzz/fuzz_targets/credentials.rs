//! Usernames and passwords as people (and scripts) type them. Parsing
//! never panics; a name that parses is its own parse again, with the same
//! uniqueness key, within the stated length; a password is refused past
//! its byte bound before any hashing could see it.
#![no_main]

use gatehouse::domain::{Password, PasswordError, Username};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // The first line is a username, the rest a password.
    let (name, password) = text.split_once('\n').unwrap_or((text, ""));

    if let Ok(user) = Username::parse(name) {
        let chars = user.as_str().chars().count();
        assert!((Username::MIN_CHARS..=Username::MAX_CHARS).contains(&chars), "{user:?}");
        let again = Username::parse(user.as_str()).expect("a parsed name parses again");
        assert!(again == user, "{user:?} parsed again is {again:?}");
        assert_eq!(again.key(), user.key());
        // The key is what decides uniqueness: it is a fixed point, so the
        // stored key of a name typed as another's key is that key.
        if let Ok(from_key) = Username::parse(&user.key()) {
            assert_eq!(from_key.key(), user.key(), "{user:?}");
        }

        match Password::parse_new(password, &user) {
            Ok(p) => {
                assert_eq!(p.expose(), password);
                assert!(password.chars().count() >= Password::MIN_CHARS);
                assert!(password.len() <= Password::MAX_BYTES);
            }
            Err(PasswordError::TooLong) => assert!(password.len() > Password::MAX_BYTES),
            Err(_) => {}
        }
    }

    match Password::parse_attempt(password) {
        Ok(p) => assert!(!p.expose().is_empty() && p.expose().len() <= Password::MAX_BYTES),
        Err(PasswordError::Empty) => assert!(password.is_empty()),
        Err(PasswordError::TooLong) => assert!(password.len() > Password::MAX_BYTES),
        Err(e) => panic!("a sign-in attempt is only checked for size, not {e:?}"),
    }
});
