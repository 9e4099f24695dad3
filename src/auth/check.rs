//! The chat-token check of docs/API.md §3, shared by `verify-token` and every chat
//! request (docs/API.md §8), so both refuse the same tokens with the same messages.

use super::{Claims, TokenError, TokenSigner};
use crate::domain::{Agent, CustomerUser};
use crate::error::{ApiError, ApiResult};
use crate::store::Store;

/// A token that passed every check, with the rows it names as they are now.
#[derive(Debug, Clone)]
pub struct CheckedToken {
    pub claims: Claims,
    pub user: CustomerUser,
    pub agent: Agent,
}

/// Whose token this must be.
#[derive(Debug, Clone, Copy)]
pub enum TokenAudience<'a> {
    /// An API key's caller (verify-token): the token must be its company's.
    Company(&'a str),
    /// An end user presenting their own token: the company it names must
    /// still be active (an API key's company is checked with the key).
    EndUser,
}

/// Checks, in the order of docs/API.md §3, each failure a 401 with its own message:
/// signature and algorithm, expiry, user exists and is active, token version,
/// company, agent exists and is active.
pub async fn check_token(
    store: &dyn Store,
    signer: &TokenSigner,
    token: &str,
    audience: TokenAudience<'_>,
) -> ApiResult<CheckedToken> {
    let claims = signer.verify(token).map_err(|e| match e {
        TokenError::Invalid => ApiError::Unauthorized("Invalid token"),
        TokenError::Expired => ApiError::Unauthorized("Token has expired"),
    })?;
    // The claims are signed by us, so their company locates the user row.
    let user = store
        .get_user(&claims.company_id, &claims.sub)
        .await?
        .filter(|u| u.active)
        .ok_or(ApiError::Unauthorized(
            "Customer user not found or inactive",
        ))?;
    if user.token_version != claims.token_version {
        return Err(ApiError::Unauthorized("Token has been invalidated"));
    }
    match audience {
        TokenAudience::Company(company_id) => {
            if user.company_id != company_id {
                return Err(ApiError::Unauthorized(
                    "Token does not belong to your company",
                ));
            }
        }
        TokenAudience::EndUser => {
            let active = store
                .get_company(&user.company_id)
                .await?
                .is_some_and(|c| c.active);
            if !active {
                return Err(ApiError::Unauthorized("Company is inactive"));
            }
        }
    }
    let agent = store
        .get_agent(&user.company_id, &claims.agent_id)
        .await?
        .filter(|a| a.active)
        .ok_or(ApiError::Unauthorized("Agent not found or inactive"))?;
    Ok(CheckedToken {
        claims,
        user,
        agent,
    })
}
