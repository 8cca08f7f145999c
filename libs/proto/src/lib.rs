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
