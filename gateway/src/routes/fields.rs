//! Field shapes shared by the catalog routes: exact money in and out, nullable fields of
//! partial updates, free-form objects, and the usual list and create answers.

use std::fmt;

use axum::{
    Json,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::IntoResponse,
};
use regal_proto::common::v1::Decimal;
use serde::{Deserialize, Deserializer, Serialize, de};
use serde_json::{Map, Value};

/// Money or a percentage rate as a request may send it: a JSON number (`12.5`) or a
/// string (`"12.50"`). It is passed on as its decimal text, never through a float
/// computation; the owning service checks it (at most two decimals, no exponent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoneyIn(pub String);

impl MoneyIn {
    pub fn message(self) -> Decimal {
        Decimal { value: self.0 }
    }
}

impl<'de> Deserialize<'de> for MoneyIn {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MoneyVisitor;

        impl de::Visitor<'_> for MoneyVisitor {
            type Value = MoneyIn;

            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter.write_str("a decimal number or a string holding one")
            }

            fn visit_str<E: de::Error>(self, value: &str) -> Result<MoneyIn, E> {
                Ok(MoneyIn(value.to_owned()))
            }

            fn visit_i64<E: de::Error>(self, value: i64) -> Result<MoneyIn, E> {
                Ok(MoneyIn(value.to_string()))
            }

            fn visit_u64<E: de::Error>(self, value: u64) -> Result<MoneyIn, E> {
                Ok(MoneyIn(value.to_string()))
            }

            /// The shortest text that reads back as the same double: `12.5` stays
            /// `"12.5"`, `0.1` stays `"0.1"`.
            fn visit_f64<E: de::Error>(self, value: f64) -> Result<MoneyIn, E> {
                Ok(MoneyIn(value.to_string()))
            }
        }

        deserializer.deserialize_any(MoneyVisitor)
    }
}

pub fn money(value: Option<MoneyIn>) -> Option<Decimal> {
    value.map(MoneyIn::message)
}

/// Money as responses carry it: the service's two-decimal string.
pub fn money_out(value: Option<Decimal>) -> String {
    value.map(|decimal| decimal.value).unwrap_or_default()
}

/// For a partial update's nullable fields: absent → `None` (unchanged), `null` →
/// `Some(None)` (cleared), a value → `Some(Some(value))`. Use with `#[serde(default)]`.
pub fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

pub fn to_struct(object: Option<Map<String, Value>>) -> Option<regal_proto::prost_types::Struct> {
    object.map(|object| regal_proto::json::object_to_struct(&object))
}

pub fn from_struct(object: Option<regal_proto::prost_types::Struct>) -> Value {
    Value::Object(
        object
            .map(|object| regal_proto::json::struct_to_object(&object))
            .unwrap_or_default(),
    )
}

/// A list answer: the items with the total in `X-Total-Count`.
pub fn list_response<T: Serialize>(items: Vec<T>, total: i64) -> impl IntoResponse {
    let mut headers = HeaderMap::new();
    headers.insert("x-total-count", HeaderValue::from(total));
    (headers, Json(items))
}

/// `201 Created` with the object and its `Location`.
pub fn created_response<T: Serialize>(location: String, body: T) -> impl IntoResponse {
    let mut headers = HeaderMap::new();
    if let Ok(location) = HeaderValue::from_str(&location) {
        headers.insert(header::LOCATION, location);
    }
    (StatusCode::CREATED, headers, Json(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Body {
        price: MoneyIn,
        #[serde(default, deserialize_with = "nullable")]
        barcode: Option<Option<String>>,
    }

    #[test]
    fn money_comes_as_a_number_or_a_string_and_keeps_its_digits() {
        for (json, expected) in [
            (r#"{"price": 12.5}"#, "12.5"),
            (r#"{"price": 0.1}"#, "0.1"),
            (r#"{"price": 7}"#, "7"),
            (r#"{"price": "3.10"}"#, "3.10"),
        ] {
            let body: Body = serde_json::from_str(json).unwrap();
            assert_eq!(body.price.0, expected, "{json}");
        }
        assert!(serde_json::from_str::<Body>(r#"{"price": true}"#).is_err());
    }

    #[test]
    fn absent_null_and_present_are_three_different_things() {
        let absent: Body = serde_json::from_str(r#"{"price": 1}"#).unwrap();
        let null: Body = serde_json::from_str(r#"{"price": 1, "barcode": null}"#).unwrap();
        let set: Body = serde_json::from_str(r#"{"price": 1, "barcode": "42"}"#).unwrap();
        assert_eq!(absent.barcode, None);
        assert_eq!(null.barcode, Some(None));
        assert_eq!(set.barcode, Some(Some("42".to_owned())));
    }
}
