//! Call parameters: the query string and, for a form `POST`, the body, in that order.

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
}
