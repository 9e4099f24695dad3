//! The end user's credential: `Authorization: Bearer <chat token>` and nothing
//! else, checked in full (docs/API.md §3) on every request before anything else
//! about the request is looked at.

use std::marker::PhantomData;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::app::SharedState;
use crate::auth::{check_token, CheckedToken, TokenAudience};
use crate::error::ApiError;
use crate::http::extract::{from_fields, read_json_object, NoQuery, QueryNames};
use crate::http::query::QueryParams;

/// An end user whose chat token passed every check of docs/API.md §3.
pub struct ChatUser(pub CheckedToken);

impl FromRequestParts<SharedState> for ChatUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &SharedState) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .filter(|t| !t.is_empty())
            .ok_or(ApiError::Unauthorized("Missing chat token"))?;
        // Failed checks here do not feed the per-IP lockout of docs/API.md §0.4,
        // which guards API-key secrets.
        let checked = check_token(
            state.store.as_ref(),
            &state.signer,
            token,
            TokenAudience::EndUser,
        )
        .await?;
        Ok(ChatUser(checked))
    }
}

/// A chat request's JSON body (an empty body reads as `{}`); every field
/// outside `T` is refused, credentials included. Then its query string,
/// checked against `Q` as [`Call`](crate::http::extract::Call) does.
pub struct ChatBody<T, Q = NoQuery>(pub T, pub QueryParams, pub PhantomData<fn() -> Q>);

impl<T: DeserializeOwned, Q: QueryNames> FromRequest<SharedState> for ChatBody<T, Q> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _: &SharedState) -> Result<Self, ApiError> {
        let query = req.uri().query().map(str::to_owned);
        let fields = read_json_object(req.into_body()).await?;
        let body = from_fields(fields)?;
        let query = QueryParams::parse(query.as_deref(), &Q::NAMES.concat())?;
        Ok(ChatBody(body, query, PhantomData))
    }
}
