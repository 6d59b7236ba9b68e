//! Integration tests: the real app over HTTP, one fresh database per test.

mod helpers;

mod auth;
mod authz;
mod cash;
mod dispatch;
mod dossier_errors;
mod durability;
mod errors;
mod fuzz;
mod health;
mod lifecycle;
mod notifications;
mod one_stop;
mod pages;
mod positions;
mod presence;
mod races;
mod receiver;
mod reference;
mod reports;
mod schema_regressions;
mod spec;
