use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

pub const ISSUER: &str = "performchat";

/// The chat token's claims, as docs/API.md §1 names them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Claims {
    pub sub: String,
    pub token_version: i64,
    pub company_id: String,
    pub agent_id: String,
    pub external_id: String,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    /// What the token's chats may do: the subset of `rag:access` and
    /// `tools:use` that the minting key held. Absent in older tokens,
    /// which then may do neither.
    #[serde(default)]
    pub perm: Vec<String>,
}

impl Claims {
    /// The claims of a token for `user`, issued at `iat` (seconds) for `ttl_secs`.
    pub fn for_user(
        user: &crate::domain::CustomerUser,
        company_id: &str,
        agent_id: &str,
        iat: i64,
        ttl_secs: i64,
    ) -> Claims {
        Claims {
            sub: user.id.clone(),
            token_version: user.token_version,
            company_id: company_id.to_owned(),
            agent_id: agent_id.to_owned(),
            external_id: user.external_id.clone(),
            iat,
            exp: iat + ttl_secs,
            iss: ISSUER.into(),
            perm: Vec::new(),
        }
    }

    /// The chat permissions of a key (`rag:access`, `tools:use`) as the claim.
    pub fn with_chat_permissions(mut self, key: crate::domain::Permissions) -> Claims {
        use crate::domain::Permission;
        self.perm = [Permission::RagAccess, Permission::ToolsUse]
            .into_iter()
            .filter(|p| key.contains(*p))
            .map(|p| p.as_str().to_owned())
            .collect();
        self
    }

    /// Whether the token carries `permission` in its `perm` claim.
    pub fn allows(&self, permission: crate::domain::Permission) -> bool {
        self.perm.iter().any(|p| p == permission.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    /// Bad signature, another algorithm, or not a token at all.
    Invalid,
    Expired,
}

/// Signs and checks chat tokens; built once at start-up from the secret.
pub struct TokenSigner {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl TokenSigner {
    pub fn new(secret: &[u8]) -> Self {
        // Only HS256 is accepted, so `alg: none` and algorithm swaps fail.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iat", "sub", "iss"]);
        TokenSigner {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }
    }

    pub fn sign(&self, claims: &Claims) -> String {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .expect("HS256 signing of plain claims cannot fail")
    }

    /// Checks signature and algorithm first, then expiry.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        match jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation) {
            Ok(data) => Ok(data.claims),
            Err(e) if matches!(e.kind(), ErrorKind::ExpiredSignature) => Err(TokenError::Expired),
            Err(_) => Err(TokenError::Invalid),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp_offset: i64) -> Claims {
        let now = chrono::Utc::now().timestamp();
        Claims {
            sub: "cu_1".into(),
            token_version: 0,
            company_id: "co_1".into(),
            agent_id: "agent_1".into(),
            external_id: "u1".into(),
            iat: now,
            exp: now + exp_offset,
            iss: ISSUER.into(),
            perm: vec!["rag:access".into()],
        }
    }

    #[test]
    fn round_trips_and_refuses_other_secrets_and_expired_tokens() {
        let signer = TokenSigner::new(b"secret-one");
        let fresh = claims(60);
        let token = signer.sign(&fresh);
        assert_eq!(signer.verify(&token).unwrap(), fresh);
        assert_eq!(
            TokenSigner::new(b"other").verify(&token),
            Err(TokenError::Invalid)
        );
        assert_eq!(
            signer.verify(&signer.sign(&claims(-1))),
            Err(TokenError::Expired)
        );
        assert_eq!(signer.verify("not a token"), Err(TokenError::Invalid));
    }

    #[test]
    fn refuses_alg_none() {
        use base64::Engine;
        let signer = TokenSigner::new(b"secret");
        let enc = |v: serde_json::Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
        };
        let body = enc(serde_json::to_value(claims(60)).unwrap());
        let token = format!(
            "{}.{body}.",
            enc(serde_json::json!({"alg": "none", "typ": "JWT"}))
        );
        assert_eq!(signer.verify(&token), Err(TokenError::Invalid));
    }
}
