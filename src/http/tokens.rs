//! `auth/*`: chat-token generation, invalidation and verification.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;

use super::extract::{Call, Endpoint};
use super::no_store::NoStore;
use super::views::{
    AgentBrief, ApiKeyBrief, ErrorBody, InvalidateResponse, TokenResponse, TokenUserView,
    VerifyResponse,
};
use crate::app::SharedState;
use crate::auth::{check_token, Claims, TokenAudience};
use crate::domain::{format_secs, ExpiresIn, ExternalId, Permission};
use crate::error::{ApiError, ApiResult};
use crate::http::query::QueryParams;
use crate::limits::Policy;
use crate::store::TokenUser;

/// Credentials (`keyId`, `keySecret`) may also travel in this body.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TokenRequest {
    /// The caller's own id for the user (stored as `external_id`), 1–255 characters.
    #[schema(min_length = 1, max_length = 255, format = "text")]
    user_id: String,
    agent_id: String,
    /// `<positive integer><s|m|h|d>`, default `24h`, at most the server's
    /// maximum (`30d` unless configured otherwise; the pattern spells it out).
    #[schema(example = "24h")]
    expires_in: Option<String>,
}

impl Endpoint for TokenRequest {
    const PERMISSION: Permission = Permission::ChatSend;
    const POLICY: Policy = Policy::Tokens;
    const REMEMBERED: bool = true;
}

#[utoipa::path(post, path = "/auth/token", tag = "auth",
    request_body = TokenRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 400, description = "Invalid field, unknown or inactive agent, inactive user", body = ErrorBody),
        (status = 401, body = ErrorBody),
    ))]
pub async fn issue(
    State(state): State<SharedState>,
    call: Call<TokenRequest>,
) -> ApiResult<NoStore<Json<TokenResponse>>> {
    let max_ttl = state.config.max_token_ttl_secs;
    let read = |req: TokenRequest, _: &QueryParams| {
        let external_id = ExternalId::parse("userId", req.user_id).map_err(ApiError::BadRequest)?;
        let expires_in = match req.expires_in {
            None => ExpiresIn::default_within(max_ttl),
            Some(text) => ExpiresIn::parse(&text, max_ttl).map_err(ApiError::BadRequest)?,
        };
        Ok((req.agent_id, external_id, expires_in))
    };
    let now = crate::domain::now_ms();
    let issued = call.run(
        &state,
        read,
        |store, (agent_id, external_id, _), key, remembered| {
            let found = store.user_for_token(
                &key.company_id,
                agent_id,
                external_id.as_str(),
                now,
                remembered,
            );
            // Declined for the key alone: nothing was written.
            Box::pin(async move {
                let found = found.await?;
                Ok((!matches!(found, TokenUser::KeyRefused)).then_some(found))
            })
        },
    );
    let (key, (agent_id, _, expires_in), found) = issued.await?;
    let company_id = &key.company_id;
    let (agent_name, user) = match found {
        TokenUser::Issued { agent_name, user } => (agent_name, *user),
        TokenUser::AgentNotFound => return Err(ApiError::bad_request("Agent not found")),
        TokenUser::UserInactive => return Err(ApiError::bad_request("Customer user is inactive")),
        TokenUser::KeyRefused => return Err(ApiError::Unauthorized("Invalid API credentials")),
    };
    let iat = now.div_euclid(1000);
    let claims = Claims::for_user(&user, company_id, &agent_id, iat, expires_in.seconds())
        .with_chat_permissions(key.permissions);
    let view = TokenUserView {
        id: user.id,
        external_id: user.external_id,
        company_id: company_id.clone(),
        agent_id: agent_id.clone(),
    };
    // The answer is a credential: no cache may keep it.
    Ok(NoStore(Json(TokenResponse {
        token: state.signer.sign(&claims),
        customer_user: view.clone(),
        user: view,
        agent: AgentBrief {
            id: agent_id,
            name: agent_name,
            active: true,
        },
        api_key: ApiKeyBrief::from(&key),
        expires_at: format_secs(claims.exp),
    })))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InvalidateRequest {
    /// The internal id (`cu_…`).
    customer_user_id: String,
}

impl Endpoint for InvalidateRequest {
    const PERMISSION: Permission = Permission::ChatSend;
}

#[utoipa::path(post, path = "/auth/invalidate-token", tag = "auth",
    request_body = InvalidateRequest,
    responses(
        (status = 200, body = InvalidateResponse),
        (status = 400, description = "Customer user not found or does not belong to your company", body = ErrorBody),
        (status = 401, body = ErrorBody),
    ))]
pub async fn invalidate(
    State(state): State<SharedState>,
    call: Call<InvalidateRequest>,
) -> ApiResult<Json<InvalidateResponse>> {
    let user_id = call.body.customer_user_id;
    let version = state
        .store
        .invalidate_tokens(&call.key.company_id, &user_id)
        .await?
        .ok_or_else(|| {
            ApiError::bad_request("Customer user not found or does not belong to your company")
        })?;
    Ok(Json(InvalidateResponse {
        message: "All tokens invalidated successfully",
        customer_user_id: user_id,
        new_token_version: version,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    token: String,
}

impl Endpoint for VerifyRequest {
    const PERMISSION: Permission = Permission::ChatSend;
}

/// The six checks, in the order of docs/API.md §3; each failure has its own message.
#[utoipa::path(post, path = "/auth/verify-token", tag = "auth",
    request_body = VerifyRequest,
    responses(
        (status = 200, body = VerifyResponse),
        (status = 400, description = "token missing or not a string, an unknown field", body = ErrorBody),
        (status = 401, description = "Invalid or expired token, inactive user or agent, invalidated token, other company", body = ErrorBody),
    ))]
pub async fn verify(
    State(state): State<SharedState>,
    call: Call<VerifyRequest>,
) -> ApiResult<Json<VerifyResponse>> {
    let checked = check_token(
        state.store.as_ref(),
        &state.signer,
        &call.body.token,
        TokenAudience::Company(&call.key.company_id),
        state.config.max_token_ttl_secs,
    )
    .await?;
    Ok(Json(VerifyResponse::new(
        checked.user,
        &checked.agent,
        checked.claims.exp,
    )))
}
