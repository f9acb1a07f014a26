//! Ids, typed so that one kind cannot be passed where another belongs. Each
//! is an opaque string (a UUID when Gatehouse made it): what one is worth
//! is decided where it is looked up, never by its shape.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "ssr", derive(utoipa::ToSchema), schema(value_type = String))]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                Self(id)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                Self(id.to_owned())
            }
        }

        /// As the bare string, so logs read `user_id="…"`.
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.0, f)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }
    };
}

id!(
    /// An account.
    UserId
);
id!(
    /// A session: one sign-in on one device, with its refresh-token family.
    SessionId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_travels_as_its_plain_string() {
        let id = UserId::from("5f0c");
        assert_eq!(serde_json::to_string(&id).unwrap(), r#""5f0c""#);
        assert_eq!(serde_json::from_str::<SessionId>(r#""ab""#).unwrap(), SessionId::from("ab"));
        assert_eq!(id.to_string(), "5f0c");
        assert_eq!(format!("{id:?}"), r#""5f0c""#);
    }
}
