//! Integration tests: the real app over HTTP, one fresh database per test.

mod helpers;

mod auth;
mod dispatch;
mod dossier_errors;
mod durability;
mod errors;
mod health;
mod lifecycle;
mod pages;
mod positions;
mod reference;
mod spec;
