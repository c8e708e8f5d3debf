//! Input checks more than one service needs.

/// A plausible e-mail address: something@domain.tld, at most 254 bytes, no spaces or control
/// characters. (Whether it receives mail is not something a server can check offline.)
pub fn is_email(value: &str) -> bool {
    value.len() <= 254
        && value.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        })
        && !value.chars().any(|c| c.is_whitespace() || c.is_control())
}

#[cfg(test)]
mod tests {
    use super::is_email;

    #[test]
    fn emails_must_look_like_emails() {
        assert!(is_email("a@b.co"));
        for bad in ["nope", "a@b", "@b.co", "a b@c.de", "a@.com", "a@com."] {
            assert!(!is_email(bad), "{bad}");
        }
    }
}
