//! Users: who may sign in, and what a valid one looks like.

use regal_authz::Role;
use regal_errors::FieldViolation;
use regal_proto::auth::v1 as proto;

/// 3–30 letters, digits, `_` or `-`. Compared case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(value: &str) -> Result<Self, FieldViolation> {
        let value = value.trim();
        let length = value.chars().count();
        if length < 3 {
            return Err(FieldViolation::new(
                "username",
                "string_too_short",
                "String should have at least 3 characters",
            ));
        }
        if length > 30 {
            return Err(FieldViolation::new(
                "username",
                "string_too_long",
                "String should have at most 30 characters",
            ));
        }
        if !value.chars().all(|character| {
            character.is_ascii_alphanumeric() || character == '_' || character == '-'
        }) {
            return Err(FieldViolation::new(
                "username",
                "string_pattern_mismatch",
                "Username may contain only letters, digits, '_' and '-'",
            ));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A syntactically valid email address (at most 254 characters), stored lower-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(value: &str) -> Result<Self, FieldViolation> {
        let value = value.trim().to_lowercase();
        if value.chars().count() > 254
            || !email_address::EmailAddress::is_valid(&value)
            || !value.contains('.')
        {
            return Err(FieldViolation::new(
                "email",
                "value_error",
                "value is not a valid email address",
            ));
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// At least 8 characters (and at most 128, so hashing stays bounded).
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub fn parse(value: &str) -> Result<Self, FieldViolation> {
        let length = value.chars().count();
        if length < 8 {
            return Err(FieldViolation::new(
                "password",
                "string_too_short",
                "String should have at least 8 characters",
            ));
        }
        if length > 128 {
            return Err(FieldViolation::new(
                "password",
                "string_too_long",
                "String should have at most 128 characters",
            ));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("Password(<redacted>)")
    }
}

/// A person's name: cleaned of markup, 1–100 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FullName(String);

impl FullName {
    pub fn parse(value: &str) -> Result<Self, FieldViolation> {
        regal_text::required("full_name", value, 100).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

pub fn role_from_proto(value: i32, field: &str) -> Result<Role, FieldViolation> {
    match proto::Role::try_from(value) {
        Ok(proto::Role::Admin) => Ok(Role::Admin),
        Ok(proto::Role::Cashier) => Ok(Role::Cashier),
        Ok(proto::Role::Employee) => Ok(Role::Employee),
        _ => Err(FieldViolation::new(
            field,
            "enum",
            "Input should be 'admin', 'cashier' or 'employee'",
        )),
    }
}

pub fn role_to_proto(role: Role) -> proto::Role {
    match role {
        Role::Admin => proto::Role::Admin,
        Role::Cashier => proto::Role::Cashier,
        Role::Employee => proto::Role::Employee,
    }
}

/// A user about to be created.
#[derive(Debug)]
pub struct NewUser {
    pub full_name: FullName,
    pub email: Email,
    pub username: Username,
    pub password: Password,
    pub role: Role,
    pub is_active: bool,
}

impl TryFrom<proto::CreateUserRequest> for NewUser {
    type Error = Vec<FieldViolation>;

    fn try_from(request: proto::CreateUserRequest) -> Result<Self, Self::Error> {
        let full_name = FullName::parse(&request.full_name);
        let email = Email::parse(&request.email);
        let username = Username::parse(&request.username);
        let password = Password::parse(&request.password);
        let role = role_from_proto(request.role, "role");
        match (full_name, email, username, password, role) {
            (Ok(full_name), Ok(email), Ok(username), Ok(password), Ok(role)) => Ok(Self {
                full_name,
                email,
                username,
                password,
                role,
                is_active: request.is_active.unwrap_or(true),
            }),
            (full_name, email, username, password, role) => Err([
                full_name.err(),
                email.err(),
                username.err(),
                password.err(),
                role.err(),
            ]
            .into_iter()
            .flatten()
            .collect()),
        }
    }
}

/// A partial update: absent fields stay as they are.
#[derive(Debug, Default)]
pub struct UserChanges {
    pub full_name: Option<FullName>,
    pub email: Option<Email>,
    pub username: Option<Username>,
    pub password: Option<Password>,
    pub role: Option<Role>,
    pub is_active: Option<bool>,
}

impl UserChanges {
    pub fn try_from_request(
        request: &proto::UpdateUserRequest,
    ) -> Result<Self, Vec<FieldViolation>> {
        let mut violations = Vec::new();
        let changes = Self {
            full_name: keep(
                &mut violations,
                request.full_name.as_deref().map(FullName::parse),
            ),
            email: keep(&mut violations, request.email.as_deref().map(Email::parse)),
            username: keep(
                &mut violations,
                request.username.as_deref().map(Username::parse),
            ),
            password: keep(
                &mut violations,
                request.password.as_deref().map(Password::parse),
            ),
            role: keep(
                &mut violations,
                request.role.map(|value| role_from_proto(value, "role")),
            ),
            is_active: request.is_active,
        };
        if violations.is_empty() {
            Ok(changes)
        } else {
            Err(violations)
        }
    }
}

/// The value of a present, valid field; records the violation of a present, invalid one.
fn keep<T>(
    violations: &mut Vec<FieldViolation>,
    field: Option<Result<T, FieldViolation>>,
) -> Option<T> {
    match field? {
        Ok(value) => Some(value),
        Err(violation) => {
            violations.push(violation);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_follow_the_contract() {
        for valid in ["bob", "till_01", "a-b-c", &"x".repeat(30)] {
            assert!(Username::parse(valid).is_ok(), "{valid}");
        }
        for (invalid, kind) in [
            ("ab", "string_too_short"),
            (&"x".repeat(31) as &str, "string_too_long"),
            ("bob smith", "string_pattern_mismatch"),
            ("<b>", "string_pattern_mismatch"),
            ("élise", "string_pattern_mismatch"),
        ] {
            assert_eq!(
                Username::parse(invalid).unwrap_err().kind,
                kind,
                "{invalid}"
            );
        }
    }

    #[test]
    fn emails_must_be_valid_and_are_lower_cased() {
        assert_eq!(
            Email::parse(" Ann@Shop.Example ").unwrap().as_str(),
            "ann@shop.example"
        );
        for invalid in [
            "",
            "ann",
            "ann@",
            "@shop.example",
            "ann@@shop.example",
            "ann@shop",
        ] {
            assert!(Email::parse(invalid).is_err(), "{invalid}");
        }
    }

    #[test]
    fn passwords_need_eight_characters_and_never_print() {
        assert!(Password::parse("1234567").is_err());
        let password = Password::parse("12345678").unwrap();
        assert_eq!(format!("{password:?}"), "Password(<redacted>)");
    }

    #[test]
    fn a_create_request_reports_every_bad_field_at_once() {
        let violations = NewUser::try_from(proto::CreateUserRequest {
            full_name: "<script></script>".to_owned(),
            email: "nope".to_owned(),
            username: "x".to_owned(),
            password: "short".to_owned(),
            role: 0,
            is_active: None,
        })
        .unwrap_err();
        let fields: Vec<&str> = violations
            .iter()
            .map(|violation| violation.field.as_str())
            .collect();
        assert_eq!(
            fields,
            ["full_name", "email", "username", "password", "role"]
        );
    }
}
