//! The chat-token check of docs/API.md §3, shared by `verify-token` and every chat
//! request (docs/API.md §8), so both refuse the same tokens with the same messages.

use super::{Claims, TokenError, TokenSigner};
use crate::domain::{Agent, CustomerUser};
use crate::store::{Store, StoreError};

/// Why a chat token was not accepted: each check's own message, or the
/// store could not answer.
#[derive(Debug, thiserror::Error)]
pub enum TokenRejected {
    #[error("{0}")]
    Unauthorized(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
}

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
/// signature and algorithm, expiry and lifetime, company, user exists and is
/// active, token version, agent exists and is active.
///
/// `max_lifetime_secs` is the server's longest `expiresIn`: a token that
/// claims to live longer was not minted by this server's token endpoint, so
/// it is refused even with a valid signature (a leaked signing secret then
/// cannot mint a token that outlives a rotation by decades).
pub async fn check_token(
    store: &dyn Store,
    signer: &TokenSigner,
    token: &str,
    audience: TokenAudience<'_>,
    max_lifetime_secs: i64,
) -> Result<CheckedToken, TokenRejected> {
    let claims = signer.verify(token).map_err(|e| match e {
        TokenError::Invalid => TokenRejected::Unauthorized("Invalid token"),
        TokenError::Expired => TokenRejected::Unauthorized("Token has expired"),
    })?;
    if claims.exp.saturating_sub(claims.iat) > max_lifetime_secs {
        return Err(TokenRejected::Unauthorized(
            "Token lifetime exceeds the maximum",
        ));
    }
    // Another company's token is refused before its user is looked at, so
    // the answer says nothing about that user's state.
    if let TokenAudience::Company(company_id) = audience {
        if claims.company_id != company_id {
            return Err(TokenRejected::Unauthorized(
                "Token does not belong to your company",
            ));
        }
    }
    // The claims are signed by us, so their company locates the user row.
    let user = store
        .get_user(&claims.company_id, &claims.sub)
        .await?
        .filter(|u| u.active)
        .ok_or(TokenRejected::Unauthorized(
            "Customer user not found or inactive",
        ))?;
    if user.token_version != claims.token_version {
        return Err(TokenRejected::Unauthorized("Token has been invalidated"));
    }
    if let TokenAudience::EndUser = audience {
        let active = store
            .get_company(&user.company_id)
            .await?
            .is_some_and(|c| c.active);
        if !active {
            return Err(TokenRejected::Unauthorized("Company is inactive"));
        }
    }
    let agent = store
        .get_agent(&user.company_id, &claims.agent_id)
        .await?
        .filter(|a| a.active)
        .ok_or(TokenRejected::Unauthorized("Agent not found or inactive"))?;
    Ok(CheckedToken {
        claims,
        user,
        agent,
    })
}
