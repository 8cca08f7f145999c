//! Values the sales service accepts only once they are valid: each request is parsed into
//! one of these at the first line of its handler.

pub mod drawer;
pub mod report;
pub mod settings;
