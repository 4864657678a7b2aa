//! Log names: 1..=249 bytes of `[A-Za-z0-9._-]`, not `.` or `..`.

use crate::error::{ErrorCode, ProtocolError};
use crate::limits::MAX_LOG_ID_BYTES;

/// Prefix reserved for internal logs (`__consumer_offsets`).
pub const INTERNAL_PREFIX: &str = "__";

/// Checks a log name against the naming rules.
///
/// # Errors
/// `InvalidLogId` naming the first bad character, or the length rule broken.
pub fn validate_log_id(name: &str) -> Result<(), ProtocolError> {
    let invalid = |msg: String| Err(ProtocolError::new(ErrorCode::InvalidLogId, msg));
    if name.is_empty() {
        return invalid("log name is empty (names are 1..=249 bytes)".into());
    }
    if name.len() > MAX_LOG_ID_BYTES {
        return invalid(format!("log name is {} bytes; MAX_LOG_ID_BYTES is {MAX_LOG_ID_BYTES}", name.len()));
    }
    if name == "." || name == ".." {
        return invalid(format!("log name {name:?} is not allowed"));
    }
    if let Some((pos, ch)) = name.char_indices().find(|&(_, c)| !is_name_char(c)) {
        return invalid(format!(
            "log name {name:?} has invalid character {ch:?} at byte {pos}; allowed: A-Z a-z 0-9 . _ -"
        ));
    }
    Ok(())
}

/// Whether `c` may appear in a log (or group) name: `[A-Za-z0-9._-]`.
pub fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
}

/// Whether the name is reserved for internal logs.
pub fn is_internal(name: &str) -> bool {
    name.starts_with(INTERNAL_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_valid_names() {
        for n in ["a", "user_events", "A.b-c_9", &"x".repeat(249)] {
            validate_log_id(n).unwrap();
        }
    }

    #[test]
    fn rejects_invalid_names_naming_the_character() {
        for (n, needle) in [
            ("user/events", "'/'"),
            ("events@prod", "'@'"),
            ("a b", "' '"),
            ("", "empty"),
            (&"a".repeat(250), "MAX_LOG_ID_BYTES"),
            ("..", "not allowed"),
            ("é", "'é'"),
        ] {
            let e = validate_log_id(n).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidLogId);
            assert!(e.message.contains(needle), "{}", e.message);
        }
    }
}
