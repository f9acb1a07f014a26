//! Reading JSON request bodies with our own messages: a client learns
//! exactly which field is missing or of the wrong type, and never sees a
//! library's error text.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use serde_json::{Map, Value};

use crate::error::AppError;
use crate::state::AppState;

/// A JSON object from the request body.
pub struct JsonBody(Map<String, Value>);

impl FromRequest<AppState> for JsonBody {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let is_json =
            req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|ct| {
                ct.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
            });
        if !is_json {
            return Err(AppError::Invalid {
                field: None,
                message: "Send a JSON body with 'Content-Type: application/json'".into(),
            });
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|_| crate::web::middleware::too_large())?;
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(map)) => Ok(Self(map)),
            Ok(_) => Err(AppError::Invalid { field: None, message: "The JSON body must be an object".into() }),
            Err(_) => Err(AppError::Invalid { field: None, message: "The request body is not valid JSON".into() }),
        }
    }
}

impl JsonBody {
    /// A required string field.
    ///
    /// # Errors
    /// [`AppError::Invalid`] naming the field when it is absent, null or
    /// not a string.
    pub fn string(&self, name: &str) -> Result<&str, AppError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Err(AppError::invalid(name, format!("Missing {name}"))),
            Some(Value::String(s)) => Ok(s),
            Some(_) => Err(AppError::invalid(name, format!("{name} must be a string"))),
        }
    }

    /// An optional string field (absent or null: `None`).
    ///
    /// # Errors
    /// [`AppError::Invalid`] naming the field when it is not a string.
    pub fn optional_string(&self, name: &str) -> Result<Option<&str>, AppError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(AppError::invalid(name, format!("{name} must be a string"))),
        }
    }

    /// A required object field read as `T` (a WebAuthn answer, say).
    ///
    /// # Errors
    /// [`AppError::Invalid`] naming the field when it is absent, not an
    /// object, or not of `T`'s shape.
    pub fn object<T: serde::de::DeserializeOwned>(&self, name: &str) -> Result<T, AppError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Err(AppError::invalid(name, format!("Missing {name}"))),
            Some(value @ Value::Object(_)) => serde_json::from_value(value.clone())
                .map_err(|e| AppError::invalid(name, format!("{name} is not of the expected shape: {e}"))),
            Some(_) => Err(AppError::invalid(name, format!("{name} must be an object"))),
        }
    }

    /// The `username` and `password` fields.
    ///
    /// # Errors
    /// As [`JsonBody::string`].
    pub fn credentials(&self) -> Result<(&str, &str), AppError> {
        Ok((self.string("username")?, self.string("password")?))
    }
}

/// Reads a query string into `T`, with a message a person can act on.
///
/// # Errors
/// [`AppError::Invalid`] when a parameter has the wrong shape.
pub fn query<T: serde::de::DeserializeOwned>(raw: Option<&str>) -> Result<T, AppError> {
    serde_urlencoded::from_str(raw.unwrap_or("")).map_err(|_| AppError::Invalid {
        field: None,
        message: "The query string could not be read; 'page' must be a whole number".into(),
    })
}
