//! Values every service accepts only once they are valid: money and rates, ids, free-form
//! objects, cleaned text, and the collection of every bad field of a request so a client
//! learns all of them at once. Each service's `domain` module builds its request types
//! from these.

pub mod money;

use chrono::NaiveDate;
use regal_errors::FieldViolation;
use serde_json::{Map, Value};
use uuid::Uuid;

/// The most units one movement may carry (keeps every sum far from `bigint` overflow).
pub const MAX_QUANTITY: i64 = 1_000_000_000;

/// The largest free-form object (attributes, contacts, terms), serialised.
const MAX_OBJECT_BYTES: usize = 16 * 1024;

/// Collects the violations of every field of a request, so a client learns all of them
/// at once.
#[derive(Debug, Default)]
pub struct Violations(Vec<FieldViolation>);

impl Violations {
    /// The value of a valid field; records the violation of an invalid one and returns
    /// `T::default()` in its stead, so parsing goes on and every bad field is reported. That
    /// value never reaches storage: [`Violations::finish`] fails when anything was recorded.
    pub fn take<T: Default>(&mut self, field: Result<T, FieldViolation>) -> T {
        match field {
            Ok(value) => value,
            Err(violation) => {
                self.0.push(violation);
                T::default()
            }
        }
    }

    /// The value of a present, valid optional field.
    pub fn take_present<T>(&mut self, field: Option<Result<T, FieldViolation>>) -> Option<T> {
        match field? {
            Ok(value) => Some(value),
            Err(violation) => {
                self.0.push(violation);
                None
            }
        }
    }

    pub fn push(&mut self, violation: FieldViolation) {
        self.0.push(violation);
    }

    pub fn finish<T>(self, value: T) -> Result<T, Vec<FieldViolation>> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self.0)
        }
    }
}

/// A UUID in a request body.
pub fn parse_uuid(field: &str, value: &str) -> Result<Uuid, FieldViolation> {
    Uuid::parse_str(value.trim())
        .map_err(|_| FieldViolation::new(field, "uuid_parsing", "Input should be a valid UUID"))
}

/// A UUID in a path (`/products/{id}`).
pub fn parse_path_id(value: &str) -> Result<Uuid, FieldViolation> {
    parse_uuid("path.id", value)
}

/// An optional reference: an empty string means "none".
pub fn parse_optional_uuid(field: &str, value: &str) -> Result<Option<Uuid>, FieldViolation> {
    if value.trim().is_empty() {
        Ok(None)
    } else {
        parse_uuid(field, value).map(Some)
    }
}

/// A calendar date in ISO form `YYYY-MM-DD` (expiry dates, expense days, report days).
pub fn parse_date(field: &str, value: &str) -> Result<NaiveDate, FieldViolation> {
    let value = value.trim();
    // Exactly four-digit years: chrono would otherwise accept `+12345-01-01` or `1-1-1`.
    let well_formed = value.len() == 10
        && value.bytes().enumerate().all(|(index, byte)| match index {
            4 | 7 => byte == b'-',
            _ => byte.is_ascii_digit(),
        });
    well_formed
        .then(|| NaiveDate::parse_from_str(value, "%Y-%m-%d").ok())
        .flatten()
        .ok_or_else(|| {
            FieldViolation::new(
                field,
                "date_parsing",
                "Input should be a valid date in the format YYYY-MM-DD",
            )
        })
}

/// A free-form object as stored: every key and string cleaned of markup, within
/// [`MAX_OBJECT_BYTES`].
pub fn clean_object(
    field: &str,
    object: Option<&prost_types::Struct>,
) -> Result<Map<String, Value>, FieldViolation> {
    let Some(object) = object else {
        return Ok(Map::new());
    };
    let cleaned = clean_map(regal_proto::json::struct_to_object(object));
    let size = serde_json::to_vec(&cleaned).map_or(usize::MAX, |bytes| bytes.len());
    if size > MAX_OBJECT_BYTES {
        return Err(FieldViolation::new(
            field,
            "too_long",
            format!("Object should be at most {MAX_OBJECT_BYTES} bytes"),
        ));
    }
    Ok(cleaned)
}

fn clean_map(map: Map<String, Value>) -> Map<String, Value> {
    map.into_iter()
        .map(|(key, value)| (regal_text::strip_markup(&key), clean_value(value)))
        .filter(|(key, _)| !key.is_empty())
        .collect()
}

fn clean_value(value: Value) -> Value {
    match value {
        Value::String(text) => Value::String(regal_text::strip_markup(&text)),
        Value::Array(items) => Value::Array(items.into_iter().map(clean_value).collect()),
        Value::Object(map) => Value::Object(clean_map(map)),
        other => other,
    }
}

/// A list's search text, cleaned of markup like stored text so that it can match it;
/// blank counts as no search.
pub fn search_text(value: Option<&str>) -> Option<String> {
    value
        .map(regal_text::strip_markup)
        .filter(|value| !value.is_empty())
}

/// Optional free text: cleaned, empty when blank.
pub fn text(field: &str, value: &str, max_chars: usize) -> Result<String, FieldViolation> {
    regal_text::optional(field, value, max_chars).map(Option::unwrap_or_default)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_plain_iso_days() {
        assert_eq!(
            parse_date("date", " 2026-02-28 ").unwrap().to_string(),
            "2026-02-28"
        );
        for bad in [
            "",
            "2026-02-30",
            "2026-2-3",
            "26-02-03",
            "+2026-02-03",
            "2026/02/03",
        ] {
            assert!(parse_date("date", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn objects_lose_their_markup_and_stay_small() {
        let object = regal_proto::json::object_to_struct(
            serde_json::json!({"<b>colour</b>": "<script>x</script>red", "sizes": ["<i>S</i>"]})
                .as_object()
                .unwrap(),
        );
        let cleaned = clean_object("attributes", Some(&object)).unwrap();
        assert_eq!(
            Value::Object(cleaned),
            serde_json::json!({"colour": "xred", "sizes": ["S"]})
        );
        let big = regal_proto::json::object_to_struct(
            serde_json::json!({"note": "x".repeat(MAX_OBJECT_BYTES)})
                .as_object()
                .unwrap(),
        );
        assert!(clean_object("attributes", Some(&big)).is_err());
    }
}
