//! End-to-end tests of the gateway and the services behind it, through real ports.

mod auth;
mod grpc;
mod health;
mod http_basics;
mod users;
