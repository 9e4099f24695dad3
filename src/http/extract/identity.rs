//! Whether presented credentials authenticate: the key read from the
//! database, or (for the hot endpoints) from this node's memory.

use super::credentials::Credentials;
use crate::app::SharedState;
use crate::auth::secret_matches;
use crate::domain::{now_ms, ApiKeyRecord, Permission};
use crate::error::ApiError;

/// Why presented credentials were not accepted.
pub(super) enum Refusal {
    /// Unknown, wrong, revoked or expired: counts towards the lockout.
    Credentials(ApiError),
    /// The store could not answer: not the caller's fault.
    Store(ApiError),
}

/// Why a stored key does not authenticate `secret`, if it does not: the
/// checks a request makes of its key, whether read now or remembered.
fn key_refusal(key: &ApiKeyRecord, secret: &str) -> Option<&'static str> {
    if !secret_matches(&key.id, secret, &key.secret_hash)
        || key.revoked_at.is_some()
        || !key.company_active
    {
        return Some("Invalid API credentials");
    }
    if key.expires_at.is_some_and(|at| at <= now_ms()) {
        return Some("Expired API key");
    }
    None
}

/// The key these credentials belong to, read from the database, if they
/// authenticate; it is remembered for [`recall`].
pub(super) async fn identify(
    state: &SharedState,
    credentials: Credentials,
) -> Result<ApiKeyRecord, Refusal> {
    let invalid = || Refusal::Credentials(ApiError::Unauthorized("Invalid API credentials"));
    // Ids are short; anything long cannot be ours and is not worth a query.
    if credentials.key_id.is_empty() || credentials.key_id.len() > 128 {
        return Err(invalid());
    }
    let Some(key) = state
        .store
        .find_api_key(&credentials.key_id)
        .await
        .map_err(|e| Refusal::Store(e.into()))?
    else {
        return Err(invalid());
    };
    if let Some(refused) = key_refusal(&key, &credentials.secret) {
        return Err(Refusal::Credentials(ApiError::Unauthorized(refused)));
    }
    state.key_cache.insert(&key);
    Ok(key)
}

/// The key from memory when it passes every check that [`identify`] and the
/// permission check would make of it; `None` sends the request the usual way,
/// so every refusal is decided from the database, as without memory.
pub(super) fn recall(
    state: &SharedState,
    credentials: &Credentials,
    permission: Permission,
) -> Option<ApiKeyRecord> {
    let key = state.key_cache.get(&credentials.key_id)?;
    let good =
        key_refusal(&key, &credentials.secret).is_none() && key.permissions.contains(permission);
    good.then(|| (*key).clone())
}
