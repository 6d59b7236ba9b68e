//! What happens before the first request: migrations, reference data, the signing
//! secret, the first admin and (optionally) the demo province.

use crate::auth::password;
use crate::config::Settings;
use crate::db::models::{settings as kv, users};
use crate::db::{now_utc, seed, Db, StoreError};
use rand::RngCore;

/// What start-up decided, for the caller to report.
pub struct Boot {
    pub jwt_secret: Vec<u8>,
    /// Set when the admin was created now with a generated password.
    pub generated_admin_password: Option<String>,
    pub admin_created: bool,
    /// Set when the demo province was loaded now.
    pub demo_loaded: bool,
}

/// A random secret of 32 bytes, hex-encoded.
pub fn random_hex(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// Runs every start-up step; safe to run again (each step checks what is there).
pub fn run(db: &Db, settings: &Settings) -> Result<Boot, String> {
    db.migrate().map_err(|e| e.to_string())?;
    db.write_blocking(seed::load_admin_units)
        .map_err(|e: StoreError| format!("cannot load administrative units: {e}"))?;

    let jwt_secret = match settings.jwt_secret.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => s.as_bytes().to_vec(),
        None => {
            tracing::warn!(
                "BUUTA_JWT_SECRET is not set: using a generated secret kept in the database"
            );
            let generated = random_hex(32);
            db.write_blocking(|c| kv::get_or_insert(c, "jwt_secret", &generated))
                .map_err(|e: StoreError| e.to_string())?
                .into_bytes()
        }
    };

    let (admin_created, generated_admin_password) = ensure_admin(db, settings)?;
    let demo_loaded = if settings.demo_enabled() {
        let hash = crate::demo::password_hash()?;
        let loaded = db
            .write_blocking(|c| crate::demo::load(c, &hash))
            .map_err(|e: StoreError| format!("cannot load the demo data: {e}"))?;
        if loaded {
            db.write_blocking(|c| crate::demo::dossiers::load(c, settings))
                .map_err(|e| format!("cannot load the demo dossiers: {e}"))?;
        }
        loaded
    } else {
        false
    };
    Ok(Boot {
        jwt_secret,
        generated_admin_password,
        admin_created,
        demo_loaded,
    })
}

fn ensure_admin(db: &Db, settings: &Settings) -> Result<(bool, Option<String>), String> {
    let mut conn = db.conn().map_err(|e| e.to_string())?;
    if users::any(&mut conn).map_err(|e| e.to_string())? {
        return Ok((false, None));
    }
    drop(conn);
    let (pw, generated) = match settings.admin_password.as_deref().filter(|p| !p.is_empty()) {
        Some(p) => (p.to_owned(), None),
        None => {
            let p = random_hex(9);
            (p.clone(), Some(p))
        }
    };
    let hash = password::hash(&pw)?;
    let created = db
        .write_blocking(|c| -> Result<bool, StoreError> {
            if users::any(c)? {
                return Ok(false);
            }
            users::insert(
                c,
                &users::NewUser {
                    username: "admin".into(),
                    password_hash: hash,
                    full_name: "Quản trị hệ thống".into(),
                    role: "admin".into(),
                    post_office_id: None,
                    agency_id: None,
                    phone: None,
                    active: true,
                    created_at: now_utc(),
                },
            )?;
            Ok(true)
        })
        .map_err(|e| e.to_string())?;
    Ok((created, generated.filter(|_| created)))
}
