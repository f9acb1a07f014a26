//! Authentication's pure core: tokens, keys, password rules, refresh-token
//! rotation, authenticator-app codes and recovery codes, throttle
//! arithmetic, and the guard's decision (`admission`).
//! It imports no web framework and no database: time, keys, randomness and
//! what the database said come in as arguments. `hasher` runs the Argon2id
//! work on its own threads. All of it is server-side: the browser never
//! sees a key or a hash.

pub mod admission;
pub mod caller;
pub mod clock;
pub mod hasher;
pub mod keys;
pub mod opaque;
pub mod passkey;
pub mod password;
pub mod policy;
pub mod recovery;
pub mod refresh;
pub mod rotation;
pub mod sealed;
pub mod throttle;
pub mod token;
pub mod totp;
pub mod turns;
