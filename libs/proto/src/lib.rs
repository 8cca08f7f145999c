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
