//! Cursor pagination: `?limit=` (default 50, max 500) and `?cursor=`, answered with
//! `{"items": [...], "next_cursor": "..." | null}`. A cursor is opaque to clients: base64url of
//! the sort key of the last item returned.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 500;

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// Items per page, 1 to 500 (default 50).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A validated page request; `after` is the decoded cursor.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub limit: u32,
    pub after: Option<String>,
}

impl PageQuery {
    pub fn page(&self) -> Result<Page, ApiError> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if limit == 0 || limit > MAX_LIMIT {
            return Err(ApiError::invalid(
                "invalid_limit",
                format!("limit must be between 1 and {MAX_LIMIT}"),
            ));
        }
        let after = match &self.cursor {
            None => None,
            Some(c) if c.is_empty() => None,
            Some(c) => Some(decode_cursor(c)?),
        };
        Ok(Page { limit, after })
    }
}

pub fn encode_cursor(key: &str) -> String {
    URL_SAFE_NO_PAD.encode(key.as_bytes())
}

fn decode_cursor(cursor: &str) -> Result<String, ApiError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| {
            ApiError::invalid("invalid_cursor", "the cursor is not one this server gave")
        })
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Paged<T> {
    /// Builds a page from up to `limit + 1` fetched rows: the extra row only says there is more.
    pub fn from_rows(mut rows: Vec<T>, page: &Page, key_of: impl Fn(&T) -> String) -> Self {
        let more = rows.len() > page.limit as usize;
        rows.truncate(page.limit as usize);
        let next_cursor = if more {
            rows.last().map(|last| encode_cursor(&key_of(last)))
        } else {
            None
        };
        Paged {
            items: rows,
            next_cursor,
        }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Paged<U> {
        Paged {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_defaults_to_50_and_caps_at_500() {
        assert_eq!(PageQuery::default().page().unwrap().limit, 50);
        let too_many = PageQuery {
            limit: Some(501),
            cursor: None,
        };
        assert_eq!(too_many.page().unwrap_err().code, "invalid_limit");
        let zero = PageQuery {
            limit: Some(0),
            cursor: None,
        };
        assert!(zero.page().is_err());
    }

    #[test]
    fn cursor_round_trips_and_garbage_is_rejected() {
        let q = PageQuery {
            limit: None,
            cursor: Some(encode_cursor("k1")),
        };
        assert_eq!(q.page().unwrap().after.as_deref(), Some("k1"));
        let bad = PageQuery {
            limit: None,
            cursor: Some("%%%".into()),
        };
        assert_eq!(bad.page().unwrap_err().code, "invalid_cursor");
    }

    #[test]
    fn next_cursor_only_when_more_rows_exist() {
        let page = Page {
            limit: 2,
            after: None,
        };
        let full = Paged::from_rows(vec!["a", "b", "c"], &page, |s| s.to_string());
        assert_eq!(full.items, vec!["a", "b"]);
        assert_eq!(full.next_cursor, Some(encode_cursor("b")));
        let last = Paged::from_rows(vec!["a"], &page, |s| s.to_string());
        assert_eq!(last.next_cursor, None);
    }
}
