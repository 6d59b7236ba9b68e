//! The domain: plain Rust with no HTTP and no SQL, unit-tested alone.

pub mod geo;
pub mod phone;
pub mod text;
