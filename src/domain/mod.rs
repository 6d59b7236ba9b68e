//! The domain: plain Rust with no HTTP and no SQL, unit-tested alone.

pub mod agency_hours;
pub mod cash;
pub mod deadlines;
pub mod dispatch;
pub mod dossier;
pub mod fees;
pub mod geo;
pub mod id_number;
pub mod notify;
pub mod phone;
pub mod presence;
pub mod reports;
pub mod shift;
pub mod text;
pub mod time_window;
pub mod tracking_code;
pub mod ward_code;
pub mod zones;
