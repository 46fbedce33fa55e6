//! The JSON body extractor: like `axum::Json`, but every rejection is an [`ApiError`] in our
//! shape (415 for another content type, 413 over the limit, 400 for malformed JSON or a body
//! that is not an object).

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};

use super::error::ApiError;
use crate::db::Record;

/// A JSON object body.
pub struct JsonObject(pub Record);

impl<S: Send + Sync> FromRequest<S> for JsonObject {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let content_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        if !is_json(&content_type) {
            return Err(ApiError::unsupported_media_type(format!(
                "the body must be JSON (Content-Type: application/json), not \"{content_type}\""
            )));
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::payload_too_large("the body is larger than the limit")
                } else {
                    ApiError::bad_request(format!("the body cannot be read: {rejection}"))
                }
            })?;
        object(&bytes).map(JsonObject)
    }
}

/// The JSON object `bytes` hold, or the 400 that says why not.
fn object(bytes: &[u8]) -> Result<Record, ApiError> {
    match serde_json::from_slice(bytes) {
        Ok(serde_json::Value::Object(object)) => Ok(object),
        Ok(_) => Err(ApiError::bad_request("the body must be a JSON object")),
        Err(err) => Err(ApiError::bad_request(format!(
            "the body is not valid JSON: {err}"
        ))),
    }
}

/// A `Content-Type`'s media type, without its parameters, in lower case.
pub(super) fn essence(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

fn is_json(content_type: &str) -> bool {
    let essence = essence(content_type);
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

#[cfg(test)]
mod proptests {
    use proptest::prelude::*;

    use super::object;

    proptest! {
        /// Any bytes: an object, or a 400 (never a panic, never another status).
        #[test]
        fn any_body_is_an_object_or_a_400(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            if let Err(error) = object(&bytes) {
                prop_assert_eq!(error.status().as_u16(), 400);
            }
        }

        /// Text that is nearly JSON: the same.
        #[test]
        fn nearly_json_is_an_object_or_a_400(text in r#"[{}\[\]",:0-9a-z\\ .eE+-]{0,64}"#) {
            match object(text.as_bytes()) {
                Ok(_) => prop_assert!(text.trim_start().starts_with('{'), "not an object: {}", text),
                Err(error) => prop_assert_eq!(error.status().as_u16(), 400),
            }
        }
    }
}
