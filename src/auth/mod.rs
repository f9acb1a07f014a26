//! Authentication. The pure core (`keys`, `token`, `password`, `clock`)
//! imports no web framework, database or runtime: time, keys and randomness
//! come in as arguments. The server glue (`cookies`, `guard`, `hasher`) is
//! the only place those meet HTTP. All of it is server-side: the browser
//! never sees a key or a hash.

pub mod caller;
pub mod clock;
pub mod keys;
pub mod opaque;
pub mod origin;
pub mod password;
pub mod policy;
pub mod refresh;
pub mod rotation;
pub mod sealed;
pub mod throttle;
pub mod token;

pub mod cookies;
pub mod guard;
pub mod hasher;
