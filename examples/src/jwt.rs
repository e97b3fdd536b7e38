//! JWT bearer tokens: a server interceptor that verifies them (HS256 with a
//! shared secret, or RS256 with the issuer's public key), refuses calls
//! without a valid one (UNAUTHENTICATED) or without the required role
//! (PERMISSION_DENIED), and hands the verified [`Claims`] to handlers
//! (`request.extensions().get::<Claims>()`). The client side is gust's own
//! `ChannelBuilder::bearer_token` / `token_source`.

use gust::server::{CallHead, InterceptFuture, Interceptor};
use gust::Status;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};

/// The claims this example's tokens carry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Who the token is for.
    pub sub: String,
    /// What they may do: the interceptor can require one role.
    pub role: String,
    /// Expiry, in seconds since the Unix epoch.
    pub exp: u64,
}

/// Verifies the `authorization: Bearer <jwt>` of every call.
pub struct JwtAuth {
    key: DecodingKey,
    validation: Validation,
    required_role: Option<String>,
}

impl JwtAuth {
    /// Tokens signed with HS256 and `secret`.
    pub fn hs256(secret: &[u8]) -> JwtAuth {
        JwtAuth::new(DecodingKey::from_secret(secret), Algorithm::HS256)
    }

    /// Tokens signed with RS256 by the holder of the private key of
    /// `public_key_pem` (a PEM `PUBLIC KEY`).
    pub fn rs256(public_key_pem: &[u8]) -> Result<JwtAuth, jsonwebtoken::errors::Error> {
        Ok(JwtAuth::new(DecodingKey::from_rsa_pem(public_key_pem)?, Algorithm::RS256))
    }

    fn new(key: DecodingKey, algorithm: Algorithm) -> JwtAuth {
        // Only the one algorithm: a token cannot pick a weaker one.
        JwtAuth { key, validation: Validation::new(algorithm), required_role: None }
    }

    /// Refuses tokens whose `role` is not `role` with PERMISSION_DENIED.
    pub fn require_role(mut self, role: &str) -> JwtAuth {
        self.required_role = Some(role.to_owned());
        self
    }

    fn check(&self, call: &mut CallHead) -> Result<(), Status> {
        let header = call.metadata().get("authorization").ok_or_else(|| Status::unauthenticated("no bearer token"))?;
        let token = header
            .strip_prefix("Bearer ")
            .ok_or_else(|| Status::unauthenticated("authorization is not a bearer token"))?;
        let claims = jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation)
            .map_err(|error| Status::unauthenticated(format!("invalid token: {error}")))?
            .claims;
        if let Some(role) = self.required_role.as_ref().filter(|role| **role != claims.role) {
            let message = format!("{} has role {:?}; {} needs {role:?}", claims.sub, claims.role, call.path());
            return Err(Status::permission_denied(message));
        }
        call.extensions_mut().insert(claims);
        Ok(())
    }
}

impl Interceptor for JwtAuth {
    fn intercept<'a>(&'a self, call: &'a mut CallHead) -> InterceptFuture<'a> {
        Box::pin(std::future::ready(self.check(call)))
    }
}
