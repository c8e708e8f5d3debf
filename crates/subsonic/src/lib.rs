//! The Subsonic API (1.16.1) with OpenSubsonic extensions at `/rest/*`, so existing music apps
//! work with Beatstream.
//!
//! A facade with no tables of its own: every call is answered by calling Beatstream's own API
//! (see [`api`]) on the caller's behalf, so ids are the API's ids and whatever a Subsonic app
//! does (a playlist, a star, a scrobble) is what the web player sees, in one process or split.
//!
//! Transport as clients use it: `GET` with query parameters or `POST` with a form body, paths
//! with and without `.view`, the `subsonic-response` envelope in XML (the default), JSON
//! (`f=json`) or JSONP (`f=jsonp&callback=`), and Subsonic error codes in HTTP 200 replies.
//!
//! Sign-in: `u` with `p` (plain or `enc:HEX`) or with `t = md5(password + s)` and `s`, checked
//! by the auth service against the user's app passwords (`POST /api/v1/auth/subsonic`), or the
//! OpenSubsonic `apiKey` (a personal API token). Grants are reused for a minute.
//!
//! Owns no tables; emits and consumes no events. Keeps in memory only sign-in grants (a minute)
//! and where paged lists ended. Every reply's songs, albums and artists are marked with the
//! caller's stars and ratings in one request (`library::annotate`).

mod api;
mod browse;
mod envelope;
mod library;
mod lists;
mod media;
mod model;
mod params;
mod playlists;
mod search;
mod users;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::Extension;
use axum::Router;
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};

use api::Api;
use envelope::{Format, Reply};
pub use envelope::{API_VERSION, SERVER_TYPE};
use params::Params;

/// Subsonic error codes.
pub mod code {
    pub const GENERIC: u32 = 0;
    pub const MISSING_PARAMETER: u32 = 10;
    pub const WRONG_CREDENTIALS: u32 = 40;
    pub const MECHANISM_NOT_SUPPORTED: u32 = 42;
    pub const CONFLICTING_MECHANISMS: u32 = 43;
    pub const INVALID_API_KEY: u32 = 44;
    pub const NOT_AUTHORIZED: u32 = 50;
    pub const NOT_FOUND: u32 = 70;
}

/// A failed call: its Subsonic code and message.
#[derive(Debug, Clone)]
pub struct Failure {
    pub code: u32,
    pub message: String,
}

impl Failure {
    pub fn new(code: u32, message: impl Into<String>) -> Self {
        Failure {
            code,
            message: message.into(),
        }
    }

    pub fn not_found(what: &str) -> Self {
        Failure::new(code::NOT_FOUND, format!("{what} not found"))
    }
}

/// What a call answers: a payload for the envelope, or a response as it is (audio, images).
pub enum Answer {
    Payload(Value),
    Raw(Response),
}

/// A signed-in caller.
#[derive(Clone)]
pub struct Identity {
    pub user_id: String,
    pub username: String,
    pub admin: bool,
    bearer: String,
    until: Instant,
}

/// One call: the API signed in as the caller, the parameters, the request's headers.
pub struct Call<'a> {
    pub api: Api,
    /// GET (or POST) answers in full; HEAD asks the same of the API, for headers only.
    pub method: axum::http::Method,
    pub params: &'a Params,
    pub headers: &'a HeaderMap,
    pub who: Identity,
    pub state: &'a Subsonic,
}

impl Call<'_> {
    /// `path` as an absolute URL of this server, as the client reached it.
    pub fn absolute(&self, path: &str) -> String {
        let header = |name: &str| self.headers.get(name).and_then(|v| v.to_str().ok());
        let scheme = header("x-forwarded-proto").unwrap_or("http");
        match header("x-forwarded-host").or(header("host")) {
            Some(host) => format!("{scheme}://{host}{path}"),
            None => path.to_string(),
        }
    }
}

#[derive(Clone)]
pub struct Subsonic {
    api: Router,
    grants: Arc<quick_cache::sync::Cache<String, Identity>>,
    /// Where paged lists left off (see [`api::page_at`]).
    cursors: Arc<quick_cache::sync::Cache<String, String>>,
}

/// The `/rest/*` routes, answering through `api`: the process's `/api/v1` router with its
/// authentication (and forwarding, when split).
pub fn router(api: Router) -> Router {
    Router::new()
        .route("/rest/{method}", get(call).post(call))
        .with_state(Subsonic {
            api,
            grants: Arc::new(quick_cache::sync::Cache::new(10_000)),
            cursors: Arc::new(quick_cache::sync::Cache::new(10_000)),
        })
}

async fn call(
    State(subsonic): State<Subsonic>,
    request_method: axum::http::Method,
    Path(method): Path<String>,
    RawQuery(query): RawQuery,
    client: Option<Extension<ConnectInfo<std::net::SocketAddr>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    let params = Params::parse(query.as_deref(), form.then_some(&body[..]));
    let format = Format::of(&params);
    let method = method.strip_suffix(".view").unwrap_or(&method).to_string();
    let api = Api::new(
        subsonic.api.clone(),
        subsonic.cursors.clone(),
        client.map(|Extension(c)| c),
        headers.get("x-request-id").cloned(),
    );
    let internal = match request_method {
        axum::http::Method::HEAD => axum::http::Method::HEAD,
        _ => axum::http::Method::GET,
    };
    let reply = match dispatch(&subsonic, api, internal, &method, &params, &headers).await {
        Ok(Answer::Raw(response)) => return response,
        Ok(Answer::Payload(payload)) => Reply::Ok(payload),
        Err(failure) => Reply::Failed(failure),
    };
    envelope::render(reply, &format)
}

async fn dispatch(
    subsonic: &Subsonic,
    api: Api,
    http_method: axum::http::Method,
    method: &str,
    params: &Params,
    headers: &HeaderMap,
) -> Result<Answer, Failure> {
    if method == "getOpenSubsonicExtensions" {
        return Ok(Answer::Payload(json!({"openSubsonicExtensions": [
            {"name": "apiKeyAuthentication", "versions": [1]},
            {"name": "formPost", "versions": [1]},
            {"name": "songLyrics", "versions": [1]},
            {"name": "transcodeOffset", "versions": [1]},
        ]})));
    }
    let who = sign_in(subsonic, &api, params).await?;
    let call = Call {
        api: api.signed_in(&who.bearer),
        method: http_method,
        params,
        headers,
        who,
        state: subsonic,
    };
    let payload = match method {
        "ping" => json!({}),
        "getLicense" => json!({"license": {"valid": true}}),
        "tokenInfo" => json!({"tokenInfo": {"username": call.who.username}}),
        "getUser" => users::get_user(&call).await?,
        "getScanStatus" => users::scan_status(&call).await?,
        "startScan" => users::start_scan(&call).await?,
        "getMusicFolders" => browse::music_folders(),
        "getIndexes" => browse::indexes(&call).await?,
        "getArtists" => browse::artists(&call).await?,
        "getArtist" => browse::artist(&call).await?,
        "getAlbum" => browse::album(&call).await?,
        "getSong" => browse::song(&call).await?,
        "getMusicDirectory" => browse::directory(&call).await?,
        "getGenres" => browse::genres(&call).await?,
        "getArtistInfo" | "getArtistInfo2" => browse::artist_info(&call, method).await?,
        "getAlbumInfo" | "getAlbumInfo2" => browse::album_info(&call).await?,
        "getAlbumList" | "getAlbumList2" => lists::album_list(&call, method).await?,
        "getRandomSongs" => lists::random_songs(&call).await?,
        "getSongsByGenre" => lists::songs_by_genre(&call).await?,
        "getStarred" | "getStarred2" => lists::starred_all(&call, method).await?,
        "getSimilarSongs" | "getSimilarSongs2" => lists::similar_songs(&call, method).await?,
        "getTopSongs" => lists::top_songs(&call).await?,
        "getNowPlaying" => library::now_playing(&call).await?,
        "search2" | "search3" => search::search(&call, method).await?,
        "getPlaylists" => playlists::list(&call).await?,
        "getPlaylist" => playlists::get(&call).await?,
        "createPlaylist" => playlists::create(&call).await?,
        "updatePlaylist" => playlists::update(&call).await?,
        "deletePlaylist" => playlists::delete(&call).await?,
        "star" => library::star(&call, true).await?,
        "unstar" => library::star(&call, false).await?,
        "setRating" => library::set_rating(&call).await?,
        "scrobble" => library::scrobble(&call).await?,
        "getPlayQueue" => library::play_queue(&call).await?,
        "savePlayQueue" => library::save_play_queue(&call).await?,
        "getLyricsBySongId" => media::lyrics_by_song(&call).await?,
        "getLyrics" => media::lyrics(&call).await?,
        // What Beatstream has none of answers empty, as a server without any would: apps
        // ask at start and treat an error as a failure.
        "getBookmarks" => json!({"bookmarks": {}}),
        "getPodcasts" => json!({"podcasts": {}}),
        "getNewestPodcasts" => json!({"newestPodcasts": {}}),
        "getInternetRadioStations" => json!({"internetRadioStations": {}}),
        "getShares" => json!({"shares": {}}),
        "stream" => return media::stream(&call, false).await.map(Answer::Raw),
        "download" => return media::stream(&call, true).await.map(Answer::Raw),
        "getCoverArt" => return media::cover_art(&call).await.map(Answer::Raw),
        _ => {
            return Err(Failure::new(
                code::NOT_FOUND,
                format!("this server does not know the method `{method}`"),
            ))
        }
    };
    let mut payload = payload;
    library::annotate(&call, &mut payload).await?;
    Ok(Answer::Payload(payload))
}

/// How long a grant from the auth service is reused for the same credentials.
const GRANT_REUSE: Duration = Duration::from_secs(60);

/// Who calls: `u` with `p` or `t`+`s` (app passwords), or `apiKey`.
async fn sign_in(subsonic: &Subsonic, api: &Api, params: &Params) -> Result<Identity, Failure> {
    let (api_key, user) = (params.get("apiKey"), params.get("u"));
    let request = match (api_key, user) {
        (Some(_), Some(_)) => {
            return Err(Failure::new(
                code::CONFLICTING_MECHANISMS,
                "send either apiKey or u, not both",
            ))
        }
        (Some(key), None) => Err(key),
        (None, Some(user)) => Ok(credentials(user, params)?),
        (None, None) => {
            return Err(Failure::new(
                code::MISSING_PARAMETER,
                "required parameter is missing: u (with p, or t and s) or apiKey",
            ))
        }
    };
    let cache_key = match &request {
        Ok(body) => format!("c:{}", hex(&Sha256::digest(body.to_string().as_bytes()))),
        Err(key) => format!("k:{}", hex(&Sha256::digest(key.as_bytes()))),
    };
    if let Some(found) = subsonic.grants.get(&cache_key) {
        if found.until > Instant::now() {
            return Ok(found);
        }
        subsonic.grants.remove(&cache_key);
    }
    let identity = match request {
        Ok(body) => {
            let grant = api
                .post("/api/v1/auth/subsonic", &body)
                .await
                .map_err(|f| match f.code {
                    code::WRONG_CREDENTIALS | code::NOT_AUTHORIZED => {
                        Failure::new(code::WRONG_CREDENTIALS, f.message)
                    }
                    _ if f.message.contains("too many") => {
                        Failure::new(code::WRONG_CREDENTIALS, f.message)
                    }
                    _ => f,
                })?;
            let expires_in = grant["expires_in"].as_u64().unwrap_or(60);
            Identity {
                user_id: grant["user"]["id"].as_str().unwrap_or_default().into(),
                username: grant["user"]["username"]
                    .as_str()
                    .unwrap_or_default()
                    .into(),
                admin: grant["user"]["role"] == "admin",
                bearer: grant["access_token"].as_str().unwrap_or_default().into(),
                until: Instant::now()
                    + GRANT_REUSE.min(Duration::from_secs(expires_in.saturating_sub(60))),
            }
        }
        Err(key) => {
            let me = api
                .signed_in(key)
                .get("/api/v1/me")
                .await
                .map_err(|f| match f.code {
                    code::WRONG_CREDENTIALS | code::NOT_AUTHORIZED => {
                        Failure::new(code::INVALID_API_KEY, "the API key is not valid")
                    }
                    // The server failing says nothing about the key.
                    _ => f,
                })?;
            Identity {
                user_id: me["id"].as_str().unwrap_or_default().into(),
                username: me["username"].as_str().unwrap_or_default().into(),
                admin: me["role"] == "admin",
                bearer: key.to_string(),
                until: Instant::now() + Duration::from_secs(60),
            }
        }
    };
    if identity.user_id.is_empty() || identity.bearer.is_empty() {
        tracing::warn!("a Subsonic sign-in got a reply without a user or token");
        return Err(Failure::new(
            code::GENERIC,
            "signing in failed; try again later",
        ));
    }
    subsonic.grants.insert(cache_key, identity.clone());
    Ok(identity)
}

/// The auth service's sign-in request for `u` with `p` (plain or `enc:HEX`) or `t` and `s`.
fn credentials(user: &str, params: &Params) -> Result<Value, Failure> {
    match (params.get("t"), params.get("s"), params.get("p")) {
        (Some(token), Some(salt), _) => Ok(json!({"username": user, "token": token, "salt": salt})),
        (_, _, Some(password)) => {
            let password = match password.strip_prefix("enc:") {
                Some(encoded) => unhex(encoded).ok_or_else(|| {
                    Failure::new(code::WRONG_CREDENTIALS, "p=enc: must be followed by hex")
                })?,
                None => password.to_string(),
            };
            Ok(json!({"username": user, "password": password}))
        }
        _ => Err(Failure::new(
            code::MISSING_PARAMETER,
            "required parameter is missing: p, or t and s",
        )),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<String> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    let bytes = (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn enc_passwords_are_hex_of_utf8() {
        assert_eq!(unhex("736573616d65").as_deref(), Some("sesame"));
        assert_eq!(unhex("C3A9").as_deref(), Some("é"));
        assert_eq!(unhex("abc"), None);
        assert_eq!(unhex("zz"), None);
    }

    #[test]
    fn a_token_wins_over_a_password_and_one_of_them_is_needed() {
        let p = Params::parse(Some("u=a&p=x&t=abc&s=1"), None);
        assert_eq!(credentials("a", &p).unwrap()["token"], "abc");
        let p = Params::parse(Some("u=a&p=enc:78"), None);
        assert_eq!(credentials("a", &p).unwrap()["password"], "x");
        let p = Params::parse(Some("u=a&t=abc"), None);
        assert_eq!(
            credentials("a", &p).unwrap_err().code,
            code::MISSING_PARAMETER
        );
    }
}
