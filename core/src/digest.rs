//! The password digest the protocol sends instead of the password itself.

use md5::{Digest, Md5};
use std::fmt::Write;

/// The 32-character lowercase hexadecimal md5 of the UTF-8 bytes of `password`,
/// which is what the login (20888) and password update (30888) packets carry.
pub fn password_digest(password: &str) -> String {
    let hash = Md5::digest(password.as_bytes());
    let mut hex = String::with_capacity(32);
    for byte in hash {
        // Writing into a String cannot fail.
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

/// Whether `text` has the shape of a password digest: exactly 32 lowercase hex digits.
pub fn is_password_digest(text: &str) -> bool {
    text.len() == 32 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_matches_known_md5_values() {
        assert_eq!(password_digest(""), "d41d8cd98f00b204e9800998ecf8427e");
        // The protocol document's login example uses the password "11".
        assert_eq!(password_digest("11"), "6512bd43d9caa6e02c990b0a82652dca");
        assert_eq!(
            password_digest("123456"),
            "e10adc3949ba59abbe56e057f20f883e"
        );
        // Chinese passwords are digested as UTF-8.
        assert_eq!(password_digest("密码"), "a8105204604a0b11e916f3879aae3b0b");
    }

    #[test]
    fn digest_is_32_lowercase_hex_digits() {
        for password in ["", "a", "11", "密码", "🔒 long passphrase with spaces"] {
            assert!(is_password_digest(&password_digest(password)), "{password}");
        }
        assert!(!is_password_digest("6512BD43D9CAA6E02C990B0A82652DCA"));
        assert!(!is_password_digest("11"));
        assert!(!is_password_digest("6512bd43d9caa6e02c990b0a82652dcg"));
    }
}
