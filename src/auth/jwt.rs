//! Access tokens: HS256 JWTs, 15 minutes, with the caller's role and scope.

use super::Role;
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// Lifetime of an access token.
pub const ACCESS_TTL_SECS: i64 = 15 * 60;

/// What an access token says about its holder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    /// The user id, as a string (RFC 7519).
    pub sub: String,
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_office_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency_id: Option<i64>,
    pub iat: i64,
    pub exp: i64,
}

/// Signing and checking keys built once from the secret.
#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl JwtKeys {
    /// Keys for HS256 with the given secret; only HS256 tokens are accepted.
    pub fn new(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp", "sub", "iat"]);
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }
    }

    /// Signs the claims.
    pub fn sign(&self, claims: &Claims) -> Result<String, String> {
        encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .map_err(|e| format!("cannot sign token: {e}"))
    }

    /// Checks signature, algorithm and expiry.
    pub fn verify(&self, token: &str) -> Result<Claims, String> {
        decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|d| d.claims)
            .map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp_offset: i64) -> Claims {
        let now = chrono::Utc::now().timestamp();
        Claims {
            sub: "7".into(),
            role: Role::Clerk,
            post_office_id: None,
            agency_id: Some(3),
            iat: now,
            exp: now + exp_offset,
        }
    }

    #[test]
    fn round_trips_and_rejects_tampering() {
        let keys = JwtKeys::new(b"secret-one");
        let token = keys.sign(&claims(60)).unwrap();
        assert_eq!(keys.verify(&token).unwrap().agency_id, Some(3));
        assert!(JwtKeys::new(b"secret-two").verify(&token).is_err());
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        parts[1] = parts[1].chars().rev().collect();
        assert!(keys.verify(&parts.join(".")).is_err());
    }

    #[test]
    fn rejects_expired_tokens() {
        let keys = JwtKeys::new(b"s");
        let token = keys.sign(&claims(-120)).unwrap();
        assert!(keys.verify(&token).is_err());
    }

    #[test]
    fn rejects_alg_none() {
        use base64_like::encode_url;
        let keys = JwtKeys::new(b"s");
        let header = encode_url(br#"{"alg":"none","typ":"JWT"}"#);
        let body = encode_url(serde_json::to_string(&claims(60)).unwrap().as_bytes());
        assert!(keys.verify(&format!("{header}.{body}.")).is_err());
    }

    /// Minimal base64url for building a hostile token in the test.
    mod base64_like {
        pub fn encode_url(bytes: &[u8]) -> String {
            const A: &[u8; 64] =
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
            let mut out = String::new();
            for chunk in bytes.chunks(3) {
                let b = [
                    chunk[0],
                    *chunk.get(1).unwrap_or(&0),
                    *chunk.get(2).unwrap_or(&0),
                ];
                let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
                for i in 0..=chunk.len() {
                    out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
                }
            }
            out
        }
    }
}
