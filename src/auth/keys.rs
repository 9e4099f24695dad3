//! Company and API-key operations shared by the admin CLI and the test
//! harnesses: checking that a company exists, minting a key (its secret
//! exists only in the return value) and revoking one.

use crate::domain::{new_id, now_ms, ApiKeyRecord, Company, Environment, IdKind, Permissions};
use crate::store::{Store, StoreError};

use super::{hash_key_secret, new_key_secret};

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("no company with id {0} in this database (`performchat company list` shows them)")]
    NoCompany(String),
    #[error("no API key with id {0}")]
    NoKey(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The company with this id, or an error that names it.
pub async fn require_company(store: &dyn Store, company_id: &str) -> Result<Company, KeyError> {
    store
        .get_company(company_id)
        .await?
        .ok_or_else(|| KeyError::NoCompany(company_id.to_owned()))
}

/// Revokes a key of any company (the operator's view); an unknown id is an error.
pub async fn revoke_api_key(store: &dyn Store, key_id: &str) -> Result<(), KeyError> {
    if store.revoke_api_key(key_id, now_ms()).await? {
        Ok(())
    } else {
        Err(KeyError::NoKey(key_id.to_owned()))
    }
}

/// Mints a key for a company and stores its hash; returns the record and the
/// secret, which exists nowhere else afterwards.
pub async fn create_api_key(
    store: &dyn Store,
    company_id: &str,
    name: &str,
    environment: Environment,
    permissions: Permissions,
    expires_at: Option<i64>,
) -> Result<(ApiKeyRecord, String), KeyError> {
    let company = require_company(store, company_id).await?;
    let id = new_id(IdKind::ApiKey);
    let secret = new_key_secret();
    let key = ApiKeyRecord {
        secret_hash: hash_key_secret(&id, &secret),
        id,
        company_id: company.id,
        name: name.to_owned(),
        environment,
        permissions,
        expires_at,
        revoked_at: None,
        created_at: now_ms(),
        last_used_at: None,
        company_active: company.active,
    };
    store.create_api_key(&key).await?;
    Ok((key, secret))
}
