//! Buuta: home pickup and return of administrative dossiers through Vietnam's
//! public postal service. See DESIGN.md for the picture, API.md for the contract.

pub mod auth;
pub mod bootstrap;
pub mod clients;
pub mod config;
pub mod db;
pub mod demo;
pub mod dispatch;
pub mod domain;
pub mod dossiers;
pub mod error;
pub mod extract;
pub mod idempotency;
pub mod import;
pub mod metrics;
pub mod notify;
pub mod pages;
pub mod plan;
pub mod planner;
pub mod receipt;
pub mod routes;
pub mod routing;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod timefmt;
pub mod track_cache;
pub mod validate;
pub mod workers;
pub mod zone_cache;
