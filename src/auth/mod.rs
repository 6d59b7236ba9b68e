//! Authentication and authorisation: passwords, tokens, the caller extractor, and
//! the login rate limit.

pub mod jwt;
pub mod limiter;
pub mod password;
pub mod user;

pub use user::AuthUser;

use serde::{Deserialize, Serialize};

/// Staff roles (DESIGN.md, "Who uses it").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Dispatcher,
    Operator,
    Courier,
    Clerk,
}

impl Role {
    /// Every role, for validation messages and tests.
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Dispatcher,
        Role::Operator,
        Role::Courier,
        Role::Clerk,
    ];

    /// The stored and serialised name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Dispatcher => "dispatcher",
            Role::Operator => "operator",
            Role::Courier => "courier",
            Role::Clerk => "clerk",
        }
    }

    /// Parses a stored or submitted role name.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
