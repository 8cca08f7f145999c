//! End-to-end tests of the gateway and the services behind it, through real ports.

mod admin_settings;
mod auth;
mod back_office_docs;
mod back_office_support;
mod cash_drawer;
mod cash_support;
mod catalog_support;
mod custom_orders;
mod customers;
mod expenses;
mod grpc;
mod health;
mod http_basics;
mod invoices;
mod products;
mod quick_sell;
mod refund_guarantees;
mod refunds;
mod reservations;
mod saga;
mod sales_reports;
mod sales_support;
mod salesmen;
mod stock;
mod users;
mod vendors;
