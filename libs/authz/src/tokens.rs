//! HS256 JSON Web Tokens with the algorithm pinned and every claim checked.

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use regal_config::{ExposeSecret, SecretString, TokenSettings};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use uuid::Uuid;

use crate::Role;

/// Clock skew tolerated between the parts, in seconds (jsonwebtoken's default is 60).
pub const LEEWAY_SECONDS: u64 = 5;

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub sub: String,
    pub username: String,
    pub role: Role,
    pub jti: String,
    /// The session (refresh-token family) this token belongs to, when it came from a login.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    pub iat: i64,
    pub exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    pub iss: String,
    pub aud: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("token has expired")]
    Expired,
    #[error("token is invalid")]
    Invalid,
}

impl TokenError {
    /// What a client is told (never the reason a forged token failed).
    pub fn client_message(self) -> &'static str {
        match self {
            TokenError::Expired => "Token has expired",
            TokenError::Invalid => "Could not validate credentials",
        }
    }
}

/// Signs and verifies one kind of token (access or refresh) with its own key.
pub struct TokenCodec {
    encoding_key: EncodingKey,
    decoding_key: DecodingKey,
    validation: Validation,
    ttl: Duration,
    issuer: String,
    audience: String,
}

impl TokenCodec {
    /// The codec of access tokens (`ACCESS_TOKEN_SECRET_KEY`, `ACCESS_TOKEN_EXPIRE_MINUTES`).
    pub fn access(settings: &TokenSettings) -> Self {
        Self::new(&settings.access_secret, settings.access_ttl, settings)
    }

    /// The codec of refresh tokens (`REFRESH_TOKEN_SECRET_KEY`, `REFRESH_TOKEN_EXPIRE_DAYS`).
    pub fn refresh(settings: &TokenSettings) -> Self {
        Self::new(&settings.refresh_secret, settings.refresh_ttl, settings)
    }

    fn new(secret: &SecretString, ttl: Duration, settings: &TokenSettings) -> Self {
        let secret_bytes = secret.expose_secret().as_bytes();
        // Only HS256 is accepted: `alg: none` and every other algorithm fail validation.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
        validation.set_issuer(&[&settings.issuer]);
        validation.set_audience(&[&settings.audience]);
        Self {
            encoding_key: EncodingKey::from_secret(secret_bytes),
            decoding_key: DecodingKey::from_secret(secret_bytes),
            validation,
            ttl,
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
        }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// Issues an access token for a user outside any session (tools, tests); returns it
    /// with its claims.
    pub fn issue_access(
        &self,
        user_id: Uuid,
        username: &str,
        role: Role,
    ) -> Result<(String, AccessClaims), TokenError> {
        self.issue_access_for_session(user_id, username, role, None)
    }

    /// Issues an access token tied to a session (refresh-token family).
    pub fn issue_access_for_session(
        &self,
        user_id: Uuid,
        username: &str,
        role: Role,
        session_id: Option<Uuid>,
    ) -> Result<(String, AccessClaims), TokenError> {
        let now = chrono::Utc::now().timestamp();
        let claims = AccessClaims {
            sub: user_id.to_string(),
            username: username.to_owned(),
            role,
            jti: Uuid::new_v4().to_string(),
            sid: session_id.map(|id| id.to_string()),
            iat: now,
            exp: now + self.ttl.as_secs() as i64,
            nbf: None,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
        };
        let token = self.sign(&claims)?;
        Ok((token, claims))
    }

    /// Signs any claims with this codec's key (HS256).
    pub fn sign<C: Serialize>(&self, claims: &C) -> Result<String, TokenError> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding_key)
            .map_err(|_| TokenError::Invalid)
    }

    /// Verifies an access token: signature, algorithm, `exp`, `nbf`, `iss`, `aud`, and the
    /// presence of `sub`, `jti` and `iat`.
    pub fn verify_access(&self, token: &str) -> Result<AccessClaims, TokenError> {
        let claims: AccessClaims = self.verify(token)?;
        if claims.jti.is_empty()
            || claims.iat > chrono::Utc::now().timestamp() + LEEWAY_SECONDS as i64
        {
            return Err(TokenError::Invalid);
        }
        Ok(claims)
    }

    /// Verifies any token signed by this codec and decodes its claims.
    pub fn verify<C: DeserializeOwned>(&self, token: &str) -> Result<C, TokenError> {
        jsonwebtoken::decode::<C>(token, &self.decoding_key, &self.validation)
            .map(|data| data.claims)
            .map_err(|error| match error.kind() {
                ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            })
    }
}

/// The token of an `Authorization: Bearer <token>` header value.
pub fn bearer_token(header_value: Option<&str>) -> Option<&str> {
    let value = header_value?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> TokenSettings {
        TokenSettings {
            access_secret: SecretString::from("access-secret-for-tests-0123456789abcdef"),
            refresh_secret: SecretString::from("refresh-secret-for-tests-0123456789abcdef"),
            access_ttl: Duration::from_secs(900),
            refresh_ttl: Duration::from_secs(86_400),
            issuer: "regal-pos".to_owned(),
            audience: "regal-pos-api".to_owned(),
        }
    }

    fn base64url(bytes: &[u8]) -> String {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    #[test]
    fn a_fresh_access_token_verifies_and_carries_the_caller() {
        let codec = TokenCodec::access(&settings());
        let user = Uuid::now_v7();
        let (token, issued) = codec.issue_access(user, "alice", Role::Cashier).unwrap();
        let verified = codec.verify_access(&token).unwrap();
        assert_eq!(verified, issued);
        assert_eq!(verified.sub, user.to_string());
        assert_eq!(verified.exp - verified.iat, 900);
    }

    #[test]
    fn a_token_signed_with_another_key_is_refused() {
        let access = TokenCodec::access(&settings());
        let refresh = TokenCodec::refresh(&settings());
        let (token, _) = refresh
            .issue_access(Uuid::now_v7(), "bob", Role::Admin)
            .unwrap();
        assert_eq!(access.verify_access(&token), Err(TokenError::Invalid));
    }

    #[test]
    fn an_edited_payload_is_refused() {
        let codec = TokenCodec::access(&settings());
        let (token, claims) = codec
            .issue_access(Uuid::now_v7(), "carol", Role::Cashier)
            .unwrap();
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let mut forged = claims.clone();
        forged.role = Role::Admin;
        parts[1] = base64url(&serde_json::to_vec(&forged).unwrap());
        assert_eq!(
            codec.verify_access(&parts.join(".")),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn alg_none_is_refused() {
        let codec = TokenCodec::access(&settings());
        let (_, claims) = codec
            .issue_access(Uuid::now_v7(), "dave", Role::Admin)
            .unwrap();
        let header = base64url(br#"{"alg":"none","typ":"JWT"}"#);
        let payload = base64url(&serde_json::to_vec(&claims).unwrap());
        assert_eq!(
            codec.verify_access(&format!("{header}.{payload}.")),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn an_expired_token_is_refused_beyond_the_leeway() {
        let codec = TokenCodec::access(&settings());
        let (_, mut claims) = codec
            .issue_access(Uuid::now_v7(), "erin", Role::Admin)
            .unwrap();
        claims.exp = chrono::Utc::now().timestamp() - LEEWAY_SECONDS as i64 - 2;
        let token = codec.sign(&claims).unwrap();
        assert_eq!(codec.verify_access(&token), Err(TokenError::Expired));
    }

    #[test]
    fn a_token_for_another_audience_or_issuer_is_refused() {
        let codec = TokenCodec::access(&settings());
        let (_, claims) = codec
            .issue_access(Uuid::now_v7(), "fay", Role::Admin)
            .unwrap();
        let mut other_audience = claims.clone();
        other_audience.aud = "someone-else".to_owned();
        assert!(
            codec
                .verify_access(&codec.sign(&other_audience).unwrap())
                .is_err()
        );
        let mut other_issuer = claims;
        other_issuer.iss = "evil".to_owned();
        assert!(
            codec
                .verify_access(&codec.sign(&other_issuer).unwrap())
                .is_err()
        );
    }

    #[test]
    fn a_token_missing_jti_is_refused() {
        let codec = TokenCodec::access(&settings());
        let now = chrono::Utc::now().timestamp();
        let claims = serde_json::json!({
            "sub": Uuid::now_v7().to_string(), "username": "gus", "role": "admin",
            "iat": now, "exp": now + 60, "iss": "regal-pos", "aud": "regal-pos-api"
        });
        assert_eq!(
            codec.verify_access(&codec.sign(&claims).unwrap()),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn a_token_not_yet_valid_is_refused() {
        let codec = TokenCodec::access(&settings());
        let (_, mut claims) = codec
            .issue_access(Uuid::now_v7(), "hal", Role::Admin)
            .unwrap();
        claims.nbf = Some(chrono::Utc::now().timestamp() + 120);
        assert!(codec.verify_access(&codec.sign(&claims).unwrap()).is_err());
    }

    #[test]
    fn bearer_header_parsing() {
        assert_eq!(bearer_token(Some("Bearer abc.def")), Some("abc.def"));
        assert_eq!(bearer_token(Some("bearer   abc")), Some("abc"));
        assert_eq!(bearer_token(Some("Basic abc")), None);
        assert_eq!(bearer_token(Some("Bearer ")), None);
        assert_eq!(bearer_token(None), None);
    }
}
