//! A secret string from configuration (webhook signing secret, initiation secret, API token):
//! `secrecy`'s [`SecretString`], so `Debug` shows it redacted, it cannot be serialised, and its
//! bytes are wiped when it is dropped. Code reads it with [`ExposeSecret::expose_secret`].

pub use secrecy::{ExposeSecret, SecretString as Secret};
