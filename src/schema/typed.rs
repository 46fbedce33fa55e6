//! Validation by a Rust type: a struct deriving `serde::Deserialize` and `validator::Validate`
//! attached to an entity. Its errors join the field rules' errors in the same shape.

use std::fmt;
use std::sync::Arc;

use serde_json::{Map, Value as Json};
use validator::{Validate, ValidationErrors, ValidationErrorsKind};

type Check = dyn Fn(&Map<String, Json>) -> Vec<(String, String)> + Send + Sync;

/// A type-erased `T: Deserialize + Validate`, run on the merged record.
#[derive(Clone)]
pub struct TypedValidator {
    type_name: &'static str,
    check: Arc<Check>,
}

impl fmt::Debug for TypedValidator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TypedValidator({})", self.type_name)
    }
}

impl TypedValidator {
    pub fn new<T>() -> TypedValidator
    where
        T: serde::de::DeserializeOwned + Validate + 'static,
    {
        TypedValidator {
            type_name: std::any::type_name::<T>(),
            check: Arc::new(|record: &Map<String, Json>| {
                match serde_json::from_value::<T>(Json::Object(record.clone())) {
                    // The field rules already report type errors per field; a record the type
                    // cannot even read is reported on the record as a whole.
                    Err(err) => vec![("_record".to_owned(), format!("is not valid: {err}"))],
                    Ok(typed) => match typed.validate() {
                        Ok(()) => Vec::new(),
                        Err(errors) => flatten(&errors),
                    },
                }
            }),
        }
    }

    /// Field name → message for every failing rule (the first message per field).
    pub fn validate(&self, record: &Map<String, Json>) -> Vec<(String, String)> {
        (self.check)(record)
    }
}

fn flatten(errors: &ValidationErrors) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (field, kind) in errors.errors() {
        let message = match kind {
            ValidationErrorsKind::Field(list) => list.first().map(|e| match &e.message {
                Some(message) => message.to_string(),
                None => format!("fails the rule \"{}\"", e.code),
            }),
            ValidationErrorsKind::Struct(_) | ValidationErrorsKind::List(_) => {
                Some("is not valid".to_owned())
            }
        };
        if let Some(message) = message {
            // Struct-level rules (`#[validate(schema(...))]`) report under "__all__".
            let name = if field == "__all__" { "_record" } else { field };
            out.push((name.to_owned(), message));
        }
    }
    out.sort();
    out
}
