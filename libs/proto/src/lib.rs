//! Generated gRPC contracts of Regal POS: one module per `regal.<svc>.v1` package, plus the
//! file descriptor set served by reflection.

pub use prost_types;

/// The encoded `FileDescriptorSet` of every `regal.*` proto, for tonic-reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("regal_descriptor");

pub mod common {
    pub mod v1 {
        tonic::include_proto!("regal.common.v1");
    }
}

pub mod auth {
    pub mod v1 {
        tonic::include_proto!("regal.auth.v1");
    }
}

pub mod catalog {
    pub mod v1 {
        tonic::include_proto!("regal.catalog.v1");
    }
}

pub mod sales {
    pub mod v1 {
        tonic::include_proto!("regal.sales.v1");
    }
}

pub mod audit {
    pub mod v1 {
        tonic::include_proto!("regal.audit.v1");
    }
}

pub mod outbox {
    pub mod v1 {
        tonic::include_proto!("regal.outbox.v1");
    }
}

/// Fully qualified names of the business services, as used by health checks and routing.
pub mod service_names {
    pub const AUTH: &str = "regal.auth.v1.AuthService";
    pub const CATALOG: &str = "regal.catalog.v1.CatalogService";
    pub const SALES: &str = "regal.sales.v1.SalesService";
    pub const AUDIT: &str = "regal.audit.v1.AuditService";
    pub const OUTBOX: &str = "regal.outbox.v1.OutboxService";
}

/// Conversions between `google.protobuf.Timestamp` and chrono.
pub mod time {
    use chrono::{DateTime, SecondsFormat, Utc};
    use prost_types::Timestamp;

    pub fn to_timestamp(time: DateTime<Utc>) -> Timestamp {
        Timestamp {
            seconds: time.timestamp(),
            nanos: time.timestamp_subsec_nanos() as i32,
        }
    }

    pub fn from_timestamp(timestamp: &Timestamp) -> Option<DateTime<Utc>> {
        DateTime::from_timestamp(timestamp.seconds, timestamp.nanos.max(0) as u32)
    }

    /// RFC 3339 in UTC with microseconds, as the REST contract returns times.
    pub fn to_rfc3339(timestamp: Option<&Timestamp>) -> Option<String> {
        timestamp
            .and_then(from_timestamp)
            .map(|time| time.to_rfc3339_opts(SecondsFormat::Micros, true))
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn a_time_survives_the_round_trip_to_the_microsecond() {
            let time = DateTime::parse_from_rfc3339("2026-11-24T10:15:30.123456Z")
                .unwrap()
                .with_timezone(&Utc);
            assert_eq!(from_timestamp(&to_timestamp(time)), Some(time));
            assert_eq!(
                to_rfc3339(Some(&to_timestamp(time))).as_deref(),
                Some("2026-11-24T10:15:30.123456Z")
            );
        }
    }
}

/// Conversions between `google.protobuf.Struct` (free-form objects on the wire) and JSON.
pub mod json {
    use prost_types::{ListValue, Struct, Value, value::Kind};
    use serde_json::{Map, Number, Value as Json};

    /// A JSON object as a `Struct`. Numbers become doubles (the only number a `Struct`
    /// carries), as in the proto3 JSON mapping.
    pub fn object_to_struct(object: &Map<String, Json>) -> Struct {
        Struct {
            fields: object
                .iter()
                .map(|(key, value)| (key.clone(), json_to_value(value)))
                .collect(),
        }
    }

    pub fn json_to_value(json: &Json) -> Value {
        let kind = match json {
            Json::Null => Kind::NullValue(0),
            Json::Bool(flag) => Kind::BoolValue(*flag),
            Json::Number(number) => Kind::NumberValue(number.as_f64().unwrap_or_default()),
            Json::String(text) => Kind::StringValue(text.clone()),
            Json::Array(items) => Kind::ListValue(ListValue {
                values: items.iter().map(json_to_value).collect(),
            }),
            Json::Object(object) => Kind::StructValue(object_to_struct(object)),
        };
        Value { kind: Some(kind) }
    }

    /// A `Struct` as a JSON object; whole doubles come back as integers (`3`, not `3.0`).
    pub fn struct_to_object(message: &Struct) -> Map<String, Json> {
        message
            .fields
            .iter()
            .map(|(key, value)| (key.clone(), value_to_json(value)))
            .collect()
    }

    pub fn value_to_json(value: &Value) -> Json {
        match &value.kind {
            None | Some(Kind::NullValue(_)) => Json::Null,
            Some(Kind::BoolValue(flag)) => Json::Bool(*flag),
            Some(Kind::NumberValue(number)) => number_to_json(*number),
            Some(Kind::StringValue(text)) => Json::String(text.clone()),
            Some(Kind::ListValue(list)) => {
                Json::Array(list.values.iter().map(value_to_json).collect())
            }
            Some(Kind::StructValue(object)) => Json::Object(struct_to_object(object)),
        }
    }

    fn number_to_json(number: f64) -> Json {
        const EXACT_INTEGER_LIMIT: f64 = 9_007_199_254_740_992.0;
        if number.fract() == 0.0 && number.abs() < EXACT_INTEGER_LIMIT {
            Json::Number(Number::from(number as i64))
        } else {
            Number::from_f64(number).map_or(Json::Null, Json::Number)
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn an_object_survives_the_round_trip() {
            let json = serde_json::json!({
                "size": "XL", "count": 3, "ratio": 0.5, "tags": ["a", null, true],
                "nested": {"colour": "red"},
            });
            let object = json.as_object().unwrap();
            assert_eq!(
                Json::Object(struct_to_object(&object_to_struct(object))),
                json
            );
        }
    }
}
