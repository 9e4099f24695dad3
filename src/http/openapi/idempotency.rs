//! What the OpenAPI document says of `Idempotency-Key` on every API-key
//! write: the request header with its rules, the 409 and 422 it may bring,
//! and the `Idempotent-Replayed` header of a replayed answer.

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{RefOr, Required};

use super::error_response;
use crate::domain::idempotency::{IN_PROGRESS, MAX_IDEMPOTENCY_KEY, REUSED};

/// Adds the header, its answers and the replay header to `op`, an API-key
/// `POST`, `PUT`, `PATCH` or `DELETE`.
pub(crate) fn document_idempotency(op: &mut Operation) {
    let key = ParameterBuilder::new()
        .name("Idempotency-Key")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "Makes a retry safe: the first request with a key runs and its answer is kept for 24 h \
             for this API key; the same request again gets that answer with Idempotent-Replayed: true \
             and changes nothing. 5xx and 429 answers are not kept (docs/API.md §12).",
        ))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(MAX_IDEMPOTENCY_KEY))
                .pattern(Some("^[!-~]+$")),
        ))
        .build();
    op.parameters.get_or_insert_with(Vec::new).push(key);
    let replayed = HeaderBuilder::new()
        .schema(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(["true"])),
        )
        .description(Some(
            "On an answer kept for an Idempotency-Key and given again",
        ))
        .build();
    for (status, response) in op.responses.responses.iter_mut() {
        if let (RefOr::T(response), false) = (response, status.starts_with('5')) {
            response
                .headers
                .insert("Idempotent-Replayed".into(), replayed.clone());
        }
    }
    for (status, message) in [("409", IN_PROGRESS), ("422", REUSED)] {
        match op.responses.responses.get_mut(status) {
            Some(RefOr::T(response)) => {
                response.description = format!("{}; or: {message}", response.description);
            }
            Some(RefOr::Ref(_)) => {}
            None => {
                op.responses
                    .responses
                    .insert(status.into(), RefOr::T(error_response(message)));
            }
        }
    }
}
