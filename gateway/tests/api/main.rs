//! End-to-end tests of the gateway and the services behind it, through real ports.

mod audit;
mod audit_durability;
mod audit_grpc;
mod audit_stream;
mod audit_support;
mod auth;
mod catalog_support;
mod grpc;
mod health;
mod http_basics;
mod products;
mod reservations;
mod stock;
mod users;
mod vendors;
