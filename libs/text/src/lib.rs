//! User-supplied text as every service stores it: trimmed, free of markup and control
//! characters, and within a length limit. `<script>` never comes back as markup.

use regal_errors::FieldViolation;

/// Removes tags (`<...>`) and any stray angle brackets, drops control characters (tab and
/// newline become spaces), collapses runs of spaces, and trims.
pub fn strip_markup(value: &str) -> String {
    let mut without_tags = String::with_capacity(value.len());
    let mut inside_tag = false;
    for character in value.chars() {
        match character {
            '<' => inside_tag = true,
            '>' if inside_tag => inside_tag = false,
            '>' => {}
            _ if inside_tag => {}
            '\t' | '\n' | '\r' => without_tags.push(' '),
            _ if character.is_control() => {}
            _ => without_tags.push(character),
        }
    }
    without_tags
        .split(' ')
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Cleans a required text field: not empty after cleaning, at most `max_chars`.
pub fn required(field: &str, value: &str, max_chars: usize) -> Result<String, FieldViolation> {
    let cleaned = strip_markup(value);
    if cleaned.is_empty() {
        return Err(FieldViolation::new(field, "missing", "Field required"));
    }
    within_limit(field, cleaned, max_chars)
}

/// Cleans an optional text field: empty after cleaning becomes `None`.
pub fn optional(
    field: &str,
    value: &str,
    max_chars: usize,
) -> Result<Option<String>, FieldViolation> {
    let cleaned = strip_markup(value);
    if cleaned.is_empty() {
        return Ok(None);
    }
    within_limit(field, cleaned, max_chars).map(Some)
}

fn within_limit(field: &str, cleaned: String, max_chars: usize) -> Result<String, FieldViolation> {
    if cleaned.chars().count() > max_chars {
        return Err(FieldViolation::new(
            field,
            "string_too_long",
            format!("String should have at most {max_chars} characters"),
        ));
    }
    Ok(cleaned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_never_survives() {
        assert_eq!(
            strip_markup("<script>alert(1)</script>Milk"),
            "alert(1)Milk"
        );
        assert_eq!(strip_markup("  Fresh <b>bread</b>  "), "Fresh bread");
        assert_eq!(strip_markup("a > b"), "a b");
        assert_eq!(strip_markup("<img src=x onerror=alert(1)>"), "");
    }

    #[test]
    fn whitespace_and_control_characters_are_tidied() {
        assert_eq!(strip_markup("  two\t\nlines\u{7}  "), "two lines");
    }

    #[test]
    fn required_text_must_have_content_within_the_limit() {
        assert_eq!(required("name", "  Tea ", 10).unwrap(), "Tea");
        assert_eq!(required("name", "<p></p>", 10).unwrap_err().kind, "missing");
        assert_eq!(
            required("name", "abcdefghijk", 10).unwrap_err().kind,
            "string_too_long"
        );
        assert_eq!(required("name", "ééééé", 5).unwrap(), "ééééé");
    }

    #[test]
    fn optional_text_may_be_blank() {
        assert_eq!(optional("note", "   ", 10).unwrap(), None);
        assert_eq!(optional("note", " hi ", 10).unwrap().as_deref(), Some("hi"));
    }
}
