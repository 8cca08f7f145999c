//! Values the auth service accepts only once they are valid.

mod user;

pub use user::{NewUser, UserChanges, role_to_proto};
