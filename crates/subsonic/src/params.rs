//! Call parameters: the query string and, for a form `POST`, the body, in that order.

use crate::{code, Failure};

pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn parse(query: Option<&str>, form: Option<&[u8]>) -> Params {
        let mut pairs: Vec<(String, String)> = query
            .and_then(|q| serde_urlencoded::from_str(q).ok())
            .unwrap_or_default();
        if let Some(body) = form {
            pairs.extend(
                serde_urlencoded::from_bytes::<Vec<(String, String)>>(body).unwrap_or_default(),
            );
        }
        Params(pairs)
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a repeated parameter (`id=1&id=2`).
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// A parameter the call cannot do without (error 10 when absent or empty).
    pub fn required(&self, name: &str) -> Result<&str, Failure> {
        self.get(name).filter(|v| !v.is_empty()).ok_or_else(|| {
            Failure::new(
                code::MISSING_PARAMETER,
                format!("required parameter is missing: {name}"),
            )
        })
    }

    /// A number, `default` when absent; error 0 when it is not one.
    pub fn int(&self, name: &str, default: i64) -> Result<i64, Failure> {
        match self.get(name).filter(|v| !v.is_empty()) {
            None => Ok(default),
            Some(v) => v.trim().parse().map_err(|_| {
                Failure::new(code::GENERIC, format!("{name} must be a number, not `{v}`"))
            }),
        }
    }

    /// A count or offset: a number from 0 to `max`.
    pub fn count(&self, name: &str, default: usize, max: usize) -> Result<usize, Failure> {
        let n = self.int(name, default as i64)?;
        if n < 0 {
            return Err(Failure::new(
                code::GENERIC,
                format!("{name} must not be negative"),
            ));
        }
        Ok((n as usize).min(max))
    }

    /// A boolean, ignoring case (`true`, `True`, `1`).
    pub fn bool(&self, name: &str, default: bool) -> bool {
        match self.get(name).map(str::to_ascii_lowercase).as_deref() {
            Some("true" | "1" | "yes") => true,
            Some("false" | "0" | "no") => false,
            _ => default,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn query_then_form_with_repeats_and_case_free_booleans() {
        let p = Params::parse(Some("id=1&f=json&public=True"), Some(b"id=2&size=x"));
        assert_eq!(p.all("id"), ["1", "2"]);
        assert_eq!(p.get("id"), Some("1"));
        assert!(p.bool("public", false));
        assert!(p.int("size", 0).is_err());
        assert_eq!(p.count("missing", 10, 500).unwrap(), 10);
        assert_eq!(
            p.required("nope").unwrap_err().code,
            code::MISSING_PARAMETER
        );
    }
}
