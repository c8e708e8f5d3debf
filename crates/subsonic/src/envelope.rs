//! The `subsonic-response` envelope in XML, JSON or JSONP. Payloads are built as JSON; XML
//! follows Subsonic's mapping: an object is an element whose scalar fields are attributes and
//! whose object or array fields are child elements, an array is that element repeated.

use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use crate::params::Params;
use crate::Failure;

pub const API_VERSION: &str = "1.16.1";
pub const SERVER_TYPE: &str = "beatstream";

pub enum Reply {
    Ok(Value),
    Failed(Failure),
}

pub enum Format {
    Xml,
    Json,
    Jsonp(String),
}

impl Format {
    pub fn of(params: &Params) -> Format {
        match params.get("f") {
            Some("json") => Format::Json,
            Some("jsonp") => Format::Jsonp(
                params
                    .get("callback")
                    .filter(|c| {
                        !c.is_empty()
                            && c.chars().all(|ch| {
                                ch.is_ascii_alphanumeric() || ch == '_' || ch == '.' || ch == '$'
                            })
                    })
                    .unwrap_or("callback")
                    .to_string(),
            ),
            _ => Format::Xml,
        }
    }
}

fn envelope(reply: Reply) -> Map<String, Value> {
    let mut body = Map::new();
    let (status, extra) = match reply {
        Reply::Ok(Value::Object(payload)) => ("ok", payload),
        Reply::Ok(_) => ("ok", Map::new()),
        Reply::Failed(failure) => {
            let mut error = Map::new();
            error.insert(
                "error".into(),
                json!({"code": failure.code, "message": failure.message}),
            );
            ("failed", error)
        }
    };
    body.insert("status".into(), status.into());
    body.insert("version".into(), API_VERSION.into());
    body.insert("type".into(), SERVER_TYPE.into());
    body.insert("serverVersion".into(), env!("CARGO_PKG_VERSION").into());
    body.insert("openSubsonic".into(), true.into());
    body.extend(extra);
    body
}

pub fn render(reply: Reply, format: &Format) -> Response {
    let body = envelope(reply);
    match format {
        Format::Json => (
            [(CONTENT_TYPE, "application/json")],
            json!({"subsonic-response": body}).to_string(),
        )
            .into_response(),
        Format::Jsonp(callback) => (
            [(CONTENT_TYPE, "application/javascript")],
            format!("{callback}({});", json!({"subsonic-response": body})),
        )
            .into_response(),
        Format::Xml => {
            let mut xml = String::from(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
            element(
                &mut xml,
                "subsonic-response",
                &body,
                Some(r#" xmlns="http://subsonic.org/restapi""#),
            );
            ([(CONTENT_TYPE, "application/xml")], xml).into_response()
        }
    }
}

/// In JSON an element's text content is its `value` field (`lyrics`, as Navidrome does).
const TEXT_KEY: &str = "value";
/// Elements whose scalar fields are child elements with text in XML.
const TEXT_CHILDREN: [&str; 3] = ["artistInfo", "artistInfo2", "albumInfo"];
/// The order of their child elements in the Subsonic schema.
const INFO_ORDER: [&str; 8] = [
    "notes",
    "biography",
    "musicBrainzId",
    "lastFmUrl",
    "smallImageUrl",
    "mediumImageUrl",
    "largeImageUrl",
    "similarArtist",
];

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Kept through attribute-value normalisation, which turns raw ones into spaces.
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c => out.push(c),
        }
    }
    out
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// `<name attr="...">children</name>` for one object.
fn element(xml: &mut String, name: &str, object: &Map<String, Value>, extra: Option<&str>) {
    xml.push('<');
    xml.push_str(name);
    if let Some(extra) = extra {
        xml.push_str(extra);
    }
    // Info elements hold their fields as child elements with text, not as attributes.
    let texts = TEXT_CHILDREN.contains(&name);
    for (key, value) in object {
        if key == TEXT_KEY || texts {
            continue;
        }
        if let Some(text) = scalar(value) {
            xml.push_str(&format!(" {key}=\"{}\"", escape(&text)));
        }
    }
    let text = object.get(TEXT_KEY).and_then(scalar);
    let mut children: Vec<(&String, &Value)> = object
        .iter()
        .filter(|(k, v)| v.is_object() || v.is_array() || (texts && *k != TEXT_KEY))
        .collect();
    if texts {
        // The schema's sequence, which strict XML readers check.
        children.sort_by_key(|(k, _)| INFO_ORDER.iter().position(|o| o == k).unwrap_or(usize::MAX));
    }
    if children.is_empty() && text.is_none() {
        xml.push_str("/>");
        return;
    }
    xml.push('>');
    if let Some(text) = text {
        xml.push_str(&escape(&text));
    }
    for (key, value) in children {
        match value {
            Value::Object(child) => element(xml, key, child, None),
            Value::Array(items) => {
                for item in items {
                    match item {
                        Value::Object(child) => element(xml, key, child, None),
                        other => {
                            if let Some(text) = scalar(other) {
                                xml.push_str(&format!("<{key}>{}</{key}>", escape(&text)));
                            }
                        }
                    }
                }
            }
            other => {
                if let Some(text) = scalar(other) {
                    xml.push_str(&format!("<{key}>{}</{key}>", escape(&text)));
                }
            }
        }
    }
    xml.push_str(&format!("</{name}>"));
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn objects_become_elements_scalars_attributes_arrays_repeats() {
        let payload = json!({"license": {"valid": true}, "extensions": [{"name": "a&b", "versions": [1, 2]}]});
        let mut xml = String::new();
        element(&mut xml, "r", payload.as_object().unwrap(), None);
        assert_eq!(
            xml,
            r#"<r><extensions name="a&amp;b"><versions>1</versions><versions>2</versions></extensions><license valid="true"/></r>"#
        );
    }

    #[test]
    fn text_content_and_info_elements() {
        let payload = json!({"lyrics": {"artist": "A", "value": "la <la>"},
            "artistInfo2": {"similarArtist": [{"id": "1"}], "largeImageUrl": "l", "biography": "b", "musicBrainzId": ""}});
        let mut xml = String::new();
        element(&mut xml, "r", payload.as_object().unwrap(), None);
        assert_eq!(
            xml,
            r#"<r><artistInfo2><biography>b</biography><musicBrainzId></musicBrainzId><largeImageUrl>l</largeImageUrl><similarArtist id="1"/></artistInfo2><lyrics artist="A">la &lt;la&gt;</lyrics></r>"#
        );
    }

    #[test]
    fn attribute_values_keep_their_line_breaks() {
        assert_eq!(escape("a\nb\t\"c\""), "a&#10;b&#9;&quot;c&quot;");
    }

    #[test]
    fn the_envelope_says_who_answers() {
        let body = envelope(Reply::Failed(Failure::new(40, "nope")));
        assert_eq!(body["status"], "failed");
        assert_eq!(body["openSubsonic"], true);
        assert_eq!(body["error"]["code"], 40);
    }
}
