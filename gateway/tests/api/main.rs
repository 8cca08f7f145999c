//! End-to-end tests of the gateway and the services behind it, through real ports.

mod auth;
mod catalog_support;
mod grpc;
mod health;
mod http_basics;
mod products;
mod quick_sell;
mod refunds;
mod reservations;
mod saga;
mod sales_support;
mod stock;
mod users;
mod vendors;
