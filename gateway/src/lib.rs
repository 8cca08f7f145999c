//! The Regal POS gateway: the one front door. It serves the REST contract of the original
//! backend, and gRPC and gRPC-web on the same port, checks the caller's JWT (and, per
//! route, the role's permission), and forwards each call to the service that owns it with
//! the caller's metadata (authorization, request id, trace context, client address).

mod grpc;
mod http_error;
mod middleware;
mod routes;
mod startup;
mod state;

pub use startup::Application;
