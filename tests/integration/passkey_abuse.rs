//! Passkeys, abused: a ceremony finished by another account's session, a
//! disabled account, an answer that names nobody, a credential that is
//! not discoverable, bad names, the limit of passkeys, strangers starting
//! sign-ins by the thousand, and the same change made twice at once.

use reqwest::Method;
use serde_json::{Value, json};

use crate::authenticator::SoftPasskey;
use crate::helpers::*;
use crate::passkeys::{add, body, finish_sign_in, msg, origin, refusals, sign_in_options, signed_in_with_passkey};

/// Rounds of a race, so that its two sides really overlap in some.
const ROUNDS: i64 = 8;

const REQUIRED: gatehouse::auth::policy::SecondFactorPolicy = gatehouse::auth::policy::SecondFactorPolicy::All;

/// `POST /api/passkeys` with `name` and an answer to `started`.
async fn finish_adding(app: &TestApp, access: &str, started: &Value, name: &str, answer: &Value) -> reqwest::Response {
    let finish = json!({ "ceremony": started["ceremony"], "name": name, "credential": answer });
    app.call(Method::POST, "/api/passkeys", access, &finish).await
}

async fn adding_options(app: &TestApp, access: &str) -> Value {
    let res = app.call(Method::POST, "/api/passkeys/options", access, &Value::Null).await;
    assert_eq!(res.status(), 200);
    body(res).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ceremony_started_by_one_account_is_never_finished_by_another() {
    let app = spawn_app().await;
    let alice = app.signed_in("alice").await;
    let bob = app.signed_in("bob").await;
    let mut alices = SoftPasskey::new(&origin(&app));
    let alice = add(&app, &alice, &mut alices, "Laptop").await;
    let mut bobs = SoftPasskey::new(&origin(&app));
    let bob = add(&app, &bob, &mut bobs, "Phone").await;

    // Adding: Alice's ceremony, in Bob's session, with a key of Bob's.
    let started = adding_options(&app, &alice).await;
    let mut third = SoftPasskey::new(&origin(&app));
    let answer = third.create(&started["options"]);
    let res = finish_adding(&app, &bob, &started, "Stolen", &answer).await;
    assert_eq!(res.status(), 401);
    assert!(msg(res).await.contains("already used"), "the same answer as for a ceremony that is gone");
    assert_eq!(app.count("SELECT COUNT(*) FROM passkeys").await, 2, "nothing added to Bob");
    // Bob's attempt did not use it up: it is still Alice's to finish.
    let res = finish_adding(&app, &alice, &started, "Tablet", &answer).await;
    assert_eq!(res.status(), 201);
    let added = body(res).await;
    assert_eq!(added["passkey"]["id"], third.id(), "the answer names the passkey just added");
    assert_eq!(added["passkey"]["name"], "Tablet");

    // Confirming: Alice's ceremony, in Bob's session, with Alice's key or with Bob's.
    let res = app.call(Method::POST, "/api/reauth/passkey/options", &alice, &Value::Null).await;
    let started = body(res).await;
    for key in [&mut alices, &mut bobs] {
        let answer = json!({ "ceremony": started["ceremony"], "credential": key.get(&started["options"]) });
        let res = app.call(Method::POST, "/api/reauth/passkey", &bob, &answer).await;
        assert_eq!(res.status(), 401);
    }
    let answer = json!({ "ceremony": started["ceremony"], "credential": bobs.get(&started["options"]) });
    let res = app.call(Method::POST, "/api/reauth/passkey", &alice, &answer).await;
    assert_eq!(res.status(), 400, "Bob's key does not confirm Alice");
    assert!(msg(res).await.contains("could not be verified"));
    let res = app.call(Method::POST, "/api/reauth/passkey/options", &alice, &Value::Null).await;
    let started = body(res).await;
    let answer = json!({ "ceremony": started["ceremony"], "credential": alices.get(&started["options"]) });
    assert_eq!(app.call(Method::POST, "/api/reauth/passkey", &alice, &answer).await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_account_or_an_answer_naming_nobody_does_not_sign_in() {
    let app = spawn_app().await;
    let (_, mut passkey) = signed_in_with_passkey(&app, "alice", "Laptop").await;
    let sessions = app.count("SELECT COUNT(*) FROM sessions").await;
    let handle = std::mem::take(&mut passkey.user_handle);
    let (ceremony, options) = sign_in_options(&app).await;
    let res = finish_sign_in(&app, &ceremony, &passkey.get(&options)).await;
    assert_eq!(res.status(), 401);
    assert!(msg(res).await.contains("could not be verified"));
    assert_eq!(refusals(&app, "passkey: no account named").await, 1, "audited");
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, sessions);
    passkey.user_handle = handle;

    let (root, _) = app.admin("root").await;
    let alice = app.user_id("alice").await;
    let res = app.call(Method::POST, &format!("/api/admin/users/{alice}/disable"), &root, &Value::Null).await;
    assert_eq!(res.status(), 200);
    let sessions = app.count("SELECT COUNT(*) FROM sessions").await;
    let (ceremony, options) = sign_in_options(&app).await;
    let res = finish_sign_in(&app, &ceremony, &passkey.get(&options)).await;
    assert_eq!(res.status(), 401);
    assert!(msg(res).await.contains("not available"));
    assert_eq!(refusals(&app, "passkey: account disabled").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, sessions, "no session began");
    assert_eq!(app.count("SELECT counter FROM passkeys").await, 0, "nor was the use recorded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_are_checked_and_a_passkey_that_cannot_say_whose_it_is_is_refused() {
    let app = spawn_app().await;
    let access = app.signed_in("alice").await;
    let started = adding_options(&app, &access).await;
    let mut passkey = SoftPasskey::new(&origin(&app));
    let answer = passkey.create(&started["options"]);
    let long = "n".repeat(65);
    for bad in ["", "   ", long.as_str(), "two\nlines"] {
        let res = finish_adding(&app, &access, &started, bad, &answer).await;
        assert_eq!(res.status(), 400, "{bad:?}");
        let said = msg(res).await;
        assert!(said.contains("name"), "{said}");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM passkeys").await, 0);

    let mut not_resident = SoftPasskey::new(&origin(&app));
    not_resident.resident = Some(false);
    let started = adding_options(&app, &access).await;
    let res = finish_adding(&app, &access, &started, "Old key", &not_resident.create(&started["options"])).await;
    assert_eq!(res.status(), 400);
    assert!(msg(res).await.contains("without a username"));
    assert_eq!(app.count("SELECT COUNT(*) FROM passkeys").await, 0);

    // A browser that says nothing of residency is taken at its word that it was required.
    let mut silent = SoftPasskey::new(&origin(&app));
    silent.resident = None;
    let started = adding_options(&app, &access).await;
    let res = finish_adding(&app, &access, &started, "  Key  ", &silent.create(&started["options"])).await;
    assert_eq!(res.status(), 201);
    assert_eq!(body(res).await["passkey"]["name"], "Key", "trimmed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_holds_twenty_passkeys_even_when_two_are_added_at_once() {
    let app = spawn_app().await;
    let mut access = app.signed_in("alice").await;
    for i in 0..19 {
        let mut passkey = SoftPasskey::new(&origin(&app));
        access = add(&app, &access, &mut passkey, &format!("Key {i}")).await;
    }
    // Two ceremonies begun at 19, finished together: one is the twentieth.
    // Several rounds, so that the two really overlap on some of them.
    for round in 0..ROUNDS {
        let first = adding_options(&app, &access).await;
        let second = adding_options(&app, &access).await;
        let (mut a, mut b) = (SoftPasskey::new(&origin(&app)), SoftPasskey::new(&origin(&app)));
        let (a_answer, b_answer) = (a.create(&first["options"]), b.create(&second["options"]));
        let both = join_all(vec![
            finish_adding(&app, &access, &first, "Last A", &a_answer),
            finish_adding(&app, &access, &second, "Last B", &b_answer),
        ])
        .await;
        let mut statuses: Vec<u16> = both.iter().map(|r| r.status().as_u16()).collect();
        statuses.sort_unstable();
        assert_eq!(statuses, [201, 409], "round {round}");
        assert_eq!(app.count("SELECT COUNT(*) FROM passkeys").await, 20);
        if round + 1 < ROUNDS {
            let added = if both[0].status() == 201 { a.id() } else { b.id() };
            let res = app.call(Method::DELETE, &format!("/api/passkeys/{added}"), &access, &Value::Null).await;
            assert_eq!(res.status(), 204);
        }
    }
    let res = app.call(Method::POST, "/api/passkeys/options", &access, &Value::Null).await;
    assert_eq!(res.status(), 409);
    assert!(msg(res).await.contains("Remove one to add another"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_two_factors_removed_at_once_leave_one_when_one_is_required() {
    let app = spawn_app_with(Options { require_mfa: REQUIRED, ..Options::default() }).await;
    let mut access = app.signed_in("alice").await;
    for round in 0..ROUNDS {
        let (mut laptop, mut phone) = (SoftPasskey::new(&origin(&app)), SoftPasskey::new(&origin(&app)));
        access = add(&app, &access, &mut laptop, "Laptop").await;
        access = add(&app, &access, &mut phone, "Phone").await;
        // The one left from the round before goes first, alone.
        if round > 0 {
            let left = app.count_text("SELECT MIN(id) FROM passkeys WHERE name = 'Left'").await;
            let res = app.call(Method::DELETE, &format!("/api/passkeys/{left}"), &access, &Value::Null).await;
            assert_eq!(res.status(), 204);
        }
        let paths = [format!("/api/passkeys/{}", laptop.id()), format!("/api/passkeys/{}", phone.id())];
        let both = join_all(paths.iter().map(|p| app.call(Method::DELETE, p, &access, &Value::Null)).collect()).await;
        let mut statuses: Vec<u16> = both.iter().map(|r| r.status().as_u16()).collect();
        statuses.sort_unstable();
        assert_eq!(statuses, [204, 409], "round {round}");
        assert_eq!(app.count("SELECT COUNT(*) FROM passkeys").await, 1);
        sqlx::query("UPDATE passkeys SET name = 'Left'").execute(app.state.db.pool()).await.unwrap();
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_events WHERE kind = 'factor_removed'").await, 2 * ROUNDS - 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_answer_sent_twice_at_once_signs_in_once() {
    let app = spawn_app().await;
    let access = app.signed_in("alice").await;
    let mut passkey = SoftPasskey::new(&origin(&app));
    passkey.synced = true;
    add(&app, &access, &mut passkey, "Phone").await;
    let sessions = app.count("SELECT COUNT(*) FROM sessions").await;
    let (ceremony, options) = sign_in_options(&app).await;
    let answer = passkey.get(&options);
    let tries = join_all((0..4).map(|_| finish_sign_in(&app, &ceremony, &answer)).collect()).await;
    let signed_in = tries.iter().filter(|r| r.status() == 200).count();
    assert_eq!(signed_in, 1, "{:?}", tries.iter().map(reqwest::Response::status).collect::<Vec<_>>());
    assert!(tries.iter().all(|r| r.status() == 200 || r.status() == 401));
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, sessions + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_confirmation_answered_with_a_counter_behind_the_stored_one_is_refused() {
    let app = spawn_app().await;
    let (access, mut passkey) = signed_in_with_passkey(&app, "alice", "Key").await;
    let (ceremony, options) = sign_in_options(&app).await;
    assert_eq!(finish_sign_in(&app, &ceremony, &passkey.get(&options)).await.status(), 200);

    // A confirmation begun while the stored counter is 1...
    let res = app.call(Method::POST, "/api/reauth/passkey/options", &access, &Value::Null).await;
    let started = body(res).await;
    let copy_at = passkey.counter;
    // ...the real key signs in twice (3)...
    for _ in 0..2 {
        let (ceremony, options) = sign_in_options(&app).await;
        assert_eq!(finish_sign_in(&app, &ceremony, &passkey.get(&options)).await.status(), 200);
    }
    // ...and a copy, taken at 1, answers with 2: past what the ceremony saw, behind what is stored.
    let mut copy = passkey;
    copy.counter = copy_at;
    let answer = json!({ "ceremony": started["ceremony"], "credential": copy.get(&started["options"]) });
    let res = app.call(Method::POST, "/api/reauth/passkey", &access, &answer).await;
    assert_eq!(res.status(), 400);
    assert_eq!(app.count("SELECT counter FROM passkeys").await, 3, "the stored counter stands");
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM audit_events WHERE kind = 'reauthenticate' AND outcome = 'failure'
                   AND detail LIKE '%counter went backwards%'"
        )
        .await,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strangers_starting_sign_ins_are_throttled_per_address_and_capped_in_all() {
    let app = spawn_app().await;
    let limit = gatehouse::auth::throttle::ThrottlePolicy::default().passkey.free;
    for _ in 0..limit {
        assert_eq!(app.post_json("/api/login/passkey/options", &Value::Null).await.status(), 200);
    }
    let res = app.post_json("/api/login/passkey/options", &Value::Null).await;
    assert_eq!(res.status(), 429);
    assert!(res.headers().contains_key("retry-after"));
    assert!(msg(res).await.contains("Too many attempts"));
    assert_eq!(app.count("SELECT COUNT(*) FROM webauthn_challenges").await, i64::from(limit), "none stored");

    // An hour on, from everywhere at once: the live challenges stop at the cap.
    app.clock.advance(3600);
    let live = gatehouse::accounts::MAX_LIVE_SIGN_INS;
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1)
         INSERT INTO webauthn_challenges (hash, purpose, user_id, state, expires_at)
         SELECT 'h' || i, 'sign_in', NULL, '{}', $2 FROM n",
    )
    .bind(live)
    .bind(app.clock_now() + 300)
    .execute(app.state.db.pool())
    .await
    .unwrap();
    let res = app.post_json("/api/login/passkey/options", &Value::Null).await;
    assert_eq!(res.status(), 503);
    assert!(res.headers().contains_key("retry-after"));
    assert_eq!(app.count("SELECT COUNT(*) FROM webauthn_challenges").await, live);
    // When they run out, sign-ins start again.
    app.clock.advance(301);
    assert_eq!(app.post_json("/api/login/passkey/options", &Value::Null).await.status(), 200);
    assert_eq!(app.count("SELECT COUNT(*) FROM webauthn_challenges").await, 1, "the dead were swept");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_passkeys_lock_the_address_like_wrong_passwords() {
    let app = spawn_app().await;
    let (_, mut passkey) = signed_in_with_passkey(&app, "alice", "Laptop").await;
    let free = gatehouse::auth::throttle::ThrottlePolicy::default().address.free;
    for _ in 0..free {
        let mut stranger = SoftPasskey::new(&origin(&app));
        stranger.user_handle = vec![7; 16];
        let (ceremony, options) = sign_in_options(&app).await;
        assert_eq!(finish_sign_in(&app, &ceremony, &stranger.get(&options)).await.status(), 401);
    }
    let sessions = app.count("SELECT COUNT(*) FROM sessions").await;
    let (ceremony, options) = sign_in_options(&app).await;
    let res = finish_sign_in(&app, &ceremony, &passkey.get(&options)).await;
    assert_eq!(res.status(), 429, "the address is locked, for passkeys as for passwords");
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, sessions);
    assert_eq!(app.login("alice", "correct horse battery").await.status(), 429);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_events WHERE kind = 'throttled'").await, 1);
}
