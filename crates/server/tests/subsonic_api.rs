//! The Subsonic API through the real binary: the transport (`.view` or not, GET or form POST,
//! XML by default, JSON and JSONP), sign-in with app passwords (`p`, `p=enc:`, `t`+`s`) and API
//! keys, every endpoint in JSON and in XML with the same content, Subsonic error codes in HTTP
//! 200 replies, and what an app does showing through the REST API (and so in the web player),
//! on SQLite and on PostgreSQL with NATS.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::{json, Value};
use std::time::Duration;
use support::{copy_fixture_library, credentials, eventually, get, post, Env, Server};

#[tokio::test]
async fn the_transport_and_sign_in_work_as_clients_expect() {
    let env = Env::embedded().await;
    let server = env.start(&[]);
    let client = reqwest::Client::new();
    let (_, session) = post(
        &client,
        &server.url("/api/v1/auth/signup"),
        credentials("listener"),
        None,
    )
    .await;
    let token = session["access_token"].as_str().unwrap();
    let (status, created) = post(
        &client,
        &server.url("/api/v1/me/tokens"),
        json!({"name": "Symfonium"}),
        Some(token),
    )
    .await;
    assert_eq!(status, 201);
    let key = created["token"].as_str().unwrap().to_string();
    let json_call = |path: String| {
        let client = client.clone();
        async move {
            let response = client.get(path).send().await.unwrap();
            assert_eq!(response.status(), 200, "Subsonic errors are HTTP 200 too");
            let body: Value = response.json().await.unwrap();
            body["subsonic-response"].clone()
        }
    };

    let ok = json_call(server.url(&format!("/rest/ping.view?f=json&apiKey={key}"))).await;
    assert_eq!(
        (ok["status"].as_str(), ok["version"].as_str()),
        (Some("ok"), Some("1.16.1"))
    );
    assert_eq!(
        (ok["openSubsonic"].as_bool(), ok["type"].as_str()),
        (Some(true), Some("beatstream"))
    );
    let info = json_call(server.url(&format!("/rest/tokenInfo?f=json&apiKey={key}"))).await;
    assert_eq!(info["tokenInfo"]["username"], "listener");
    let extensions = json_call(server.url("/rest/getOpenSubsonicExtensions?f=json")).await;
    assert!(extensions["openSubsonicExtensions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["name"] == "apiKeyAuthentication"));

    // Errors: no credentials (10), a wrong key (44), both mechanisms (43), a wrong password
    // (40), an unknown method (70).
    for (query, code) in [
        ("/rest/ping?f=json".to_string(), 10),
        ("/rest/ping?f=json&apiKey=bsp_wrong".to_string(), 44),
        (format!("/rest/ping?f=json&apiKey={key}&u=listener"), 43),
        ("/rest/ping?f=json&u=listener&p=secret".to_string(), 40),
        ("/rest/ping?f=json&u=listener".to_string(), 10),
        (format!("/rest/noSuchThing?f=json&apiKey={key}"), 70),
    ] {
        let failed = json_call(server.url(&query)).await;
        assert_eq!(
            (failed["status"].as_str(), failed["error"]["code"].as_u64()),
            (Some("failed"), Some(code)),
            "{query}"
        );
    }

    // XML by default; JSONP; a form POST.
    let xml = client
        .get(server.url(&format!("/rest/getLicense?apiKey={key}")))
        .send()
        .await
        .unwrap();
    assert!(xml.headers()["content-type"]
        .to_str()
        .unwrap()
        .contains("xml"));
    let xml = xml.text().await.unwrap();
    assert!(xml.starts_with(r#"<?xml version="1.0" encoding="UTF-8"?><subsonic-response xmlns="http://subsonic.org/restapi""#), "{xml}");
    assert!(xml.contains(r#"<license valid="true"/>"#), "{xml}");
    let jsonp = client
        .get(server.url(&format!("/rest/ping.view?f=jsonp&callback=cb&apiKey={key}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        jsonp.starts_with(r#"cb({"subsonic-response":"#) && jsonp.ends_with(");"),
        "{jsonp}"
    );
    let form = client
        .post(server.url("/rest/ping.view"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("f=json&apiKey={key}"))
        .send()
        .await
        .unwrap();
    let form: Value = form.json().await.unwrap();
    assert_eq!(form["subsonic-response"]["status"], "ok");
    drop(server);
    env.finish().await;
}

/// An app's view of the server: a base URL and the sign-in parameters, answering JSON.
struct App {
    client: reqwest::Client,
    base: String,
    auth: String,
}

impl App {
    fn url(&self, method: &str, query: &str) -> String {
        format!(
            "{}/rest/{method}.view?{}&v=1.16.1&c=test{query}",
            self.base, self.auth
        )
    }

    /// The `subsonic-response` of a JSON call.
    async fn json(&self, method: &str, query: &str) -> Value {
        let response = self
            .client
            .get(self.url(method, &format!("{query}&f=json")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{method}");
        let body: Value = response.json().await.unwrap();
        body["subsonic-response"].clone()
    }

    /// A call that must succeed.
    async fn ok(&self, method: &str, query: &str) -> Value {
        let reply = self.json(method, query).await;
        assert_eq!(reply["status"], "ok", "{method}{query}: {reply}");
        reply
    }

    /// A call that must fail with `code`.
    async fn fails(&self, method: &str, query: &str, code: u64) {
        let reply = self.json(method, query).await;
        assert_eq!(
            (reply["status"].as_str(), reply["error"]["code"].as_u64()),
            (Some("failed"), Some(code)),
            "{method}{query}: {reply}"
        );
        assert!(reply["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()));
    }

    /// The same call in XML: parsed, with the root's status and the payload element's name.
    async fn xml(&self, method: &str, query: &str) -> (String, Option<String>, usize) {
        let response = self
            .client
            .get(self.url(method, query))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(content_type.contains("xml"), "{method}: {content_type}");
        let text = response.text().await.unwrap();
        let doc =
            roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{method}: {e}\n{text}"));
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "subsonic-response");
        assert_eq!(
            root.tag_name().namespace(),
            Some("http://subsonic.org/restapi")
        );
        let payload = root.children().find(|n| n.is_element());
        (
            root.attribute("status").unwrap_or_default().to_string(),
            payload.map(|n| n.tag_name().name().to_string()),
            payload.map_or(0, |n| n.descendants().filter(|d| d.is_element()).count()),
        )
    }
}

fn md5_hex(text: &str) -> String {
    use md5::{Digest, Md5};
    format!("{:x}", Md5::digest(text.as_bytes()))
}

async fn start_with_library(env: &Env) -> (Server, String) {
    let library = env.dir.path().join("library");
    copy_fixture_library(&library);
    let server = env.start(&[("BEATSTREAM_LIBRARY", &library.display().to_string())]);
    let client = reqwest::Client::new();
    let (_, session) = post(
        &client,
        &server.url("/api/v1/auth/signup"),
        credentials("ann"),
        None,
    )
    .await;
    let token = session["access_token"].as_str().unwrap().to_string();
    for _ in 0..400 {
        let (_, scan) = get(&client, &server.url("/api/v1/library/scan"), Some(&token)).await;
        if scan["state"] == "idle" && scan["finished_at"].is_string() {
            return (server, token);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the scan did not end; log:\n{}", server.log_text());
}

/// App passwords: created and revoked over REST, accepted as `p`, `p=enc:` and `t`+`s`.
async fn app_passwords_sign_apps_in(env: Env) {
    let (server, token) = start_with_library(&env).await;
    let client = reqwest::Client::new();
    let (status, made) = post(
        &client,
        &server.url("/api/v1/me/app-passwords"),
        json!({"name": "Symfonium"}),
        Some(&token),
    )
    .await;
    assert_eq!(status, 201);
    let password = made["password"].as_str().unwrap().to_string();
    let (_, listed) = get(
        &client,
        &server.url("/api/v1/me/app-passwords"),
        Some(&token),
    )
    .await;
    assert_eq!(listed["items"][0]["name"], "Symfonium");
    assert!(
        listed["items"][0].get("password").is_none(),
        "shown once only"
    );

    let encoded: String = password.bytes().map(|b| format!("{b:02x}")).collect();
    for auth in [
        format!("u=ann&p={password}"),
        format!("u=ANN&p=enc:{encoded}"),
        format!("u=ann&t={}&s=c19b2d", md5_hex(&format!("{password}c19b2d"))),
        // Salts of any alphabet.
        format!(
            "u=ann&t={}&s=%C3%A9%2B%20x",
            md5_hex(&format!("{password}é+ x"))
        ),
    ] {
        let app = App {
            client: client.clone(),
            base: server.url(""),
            auth: auth.clone(),
        };
        let reply = app.ok("tokenInfo", "").await;
        assert_eq!(reply["tokenInfo"]["username"], "ann", "{auth}");
    }
    // The token an app password gets is for listening: the library yes, credentials no.
    let (status, grant) = post(
        &client,
        &server.url("/api/v1/auth/subsonic"),
        json!({"username": "ann", "password": password}),
        None,
    )
    .await;
    assert_eq!(status, 200, "{grant}");
    let listening = grant["access_token"].as_str().unwrap();
    let (status, _) = get(
        &client,
        &server.url("/api/v1/me/likes/tracks"),
        Some(listening),
    )
    .await;
    assert_eq!(status, 200);
    for path in ["/api/v1/me/tokens", "/api/v1/me/app-passwords"] {
        let (status, body) = post(
            &client,
            &server.url(path),
            json!({"name": "more"}),
            Some(listening),
        )
        .await;
        assert_eq!(status, 403, "{path}: {body}");
    }
    let (status, _) = get(&client, &server.url("/api/v1/admin/users"), Some(listening)).await;
    assert_eq!(status, 403, "an admin's app password is no admin sign-in");

    let wrong = App {
        client: client.clone(),
        base: server.url(""),
        auth: format!("u=ann&t={}&s=abc", md5_hex("nopeabc")),
    };
    wrong.fails("ping", "", 40).await;
    let stranger = App {
        client: client.clone(),
        base: server.url(""),
        auth: format!("u=nobody&p={password}"),
    };
    stranger.fails("ping", "", 40).await;

    // Revoked: refused (after the short reuse of a grant for other salts: a new salt asks again).
    let id = made["id"].as_str().unwrap();
    let response = client
        .delete(server.url(&format!("/api/v1/me/app-passwords/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let revoked = App {
        client: client.clone(),
        base: server.url(""),
        auth: format!("u=ann&t={}&s=fresh", md5_hex(&format!("{password}fresh"))),
    };
    revoked.fails("ping", "", 40).await;
    // The sealed secret is not in the database in the clear.
    let clear = env
        .query_i64(
            "auth",
            &format!("SELECT COUNT(*) FROM app_passwords WHERE sealed LIKE '%{password}%'"),
        )
        .await;
    assert_eq!(clear, 0);
    drop(server);
    env.finish().await;
}

/// Every endpoint, in JSON and XML, on the fixture library; what the app does shows in REST.
async fn every_endpoint_answers_json_and_xml(env: Env) {
    let (server, token) = start_with_library(&env).await;
    let client = reqwest::Client::new();
    let (_, made) = post(
        &client,
        &server.url("/api/v1/me/app-passwords"),
        json!({"name": "DSub"}),
        Some(&token),
    )
    .await;
    let password = made["password"].as_str().unwrap();
    let app = App {
        client: client.clone(),
        base: server.url(""),
        auth: format!("u=ann&t={}&s=s4lt", md5_hex(&format!("{password}s4lt"))),
    };

    // Browsing by tags: the fixture library's albums and artists, as REST has them.
    let (_, rest_albums) = get(
        &client,
        &server.url("/api/v1/albums?limit=100"),
        Some(&token),
    )
    .await;
    let artists = app.ok("getArtists", "").await;
    let index = artists["artists"]["index"].as_array().unwrap();
    let first_artist = &index[0]["artist"][0];
    assert!(first_artist["id"].is_string() && first_artist["albumCount"].as_i64().unwrap() >= 1);
    let album_list = app
        .ok("getAlbumList2", "&type=alphabeticalByName&size=500")
        .await;
    let albums = album_list["albumList2"]["album"].as_array().unwrap();
    assert_eq!(albums.len(), rest_albums["items"].as_array().unwrap().len());
    let second = albums
        .iter()
        .find(|a| a["name"] == "Second Album")
        .expect("Second Album");
    let album_id = second["id"].as_str().unwrap();
    let album = app.ok("getAlbum", &format!("&id={album_id}")).await;
    let songs = album["album"]["song"].as_array().unwrap();
    let (_, rest_album) = get(
        &client,
        &server.url(&format!("/api/v1/albums/{album_id}")),
        Some(&token),
    )
    .await;
    let rest_songs: Vec<&str> = rest_album["tracks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert!(rest_songs.len() >= 3);
    assert_eq!(
        songs
            .iter()
            .map(|s| s["id"].as_str().unwrap())
            .collect::<Vec<_>>(),
        rest_songs,
        "in disc and track order"
    );
    assert_eq!(album["album"]["songCount"], rest_songs.len());
    let song = &songs[0];
    for field in [
        "id",
        "title",
        "album",
        "artist",
        "displayArtist",
        "contentType",
        "suffix",
        "path",
        "mediaType",
    ] {
        assert!(song[field].is_string(), "song.{field}: {song}");
    }
    assert!(
        song["artists"].is_array() && song["genres"].is_array() && song["replayGain"].is_object()
    );
    assert!(song["duration"].as_i64().unwrap() > 0);
    assert!(
        !song["path"].as_str().unwrap().starts_with('/'),
        "no server paths"
    );
    let song_id = song["id"].as_str().unwrap().to_string();
    let artist_id = second["artistId"].as_str().unwrap().to_string();
    let artist = app.ok("getArtist", &format!("&id={artist_id}")).await;
    assert!(artist["artist"]["album"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["id"] == album_id));
    let dir = app
        .ok("getMusicDirectory", &format!("&id={album_id}"))
        .await;
    assert_eq!(
        dir["directory"]["child"].as_array().unwrap().len(),
        rest_songs.len()
    );
    let dir = app
        .ok("getMusicDirectory", &format!("&id={artist_id}"))
        .await;
    assert!(dir["directory"]["child"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["id"] == album_id && c["isDir"] == true));

    // Search: a typed query (once the search service has taken in the scan's events), and the
    // empty query listing everything, paged.
    eventually(
        Duration::from_secs(30),
        "the album is searchable",
        || async {
            let found = app.ok("search3", "&query=second").await;
            found["searchResult3"]["album"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["id"] == album_id)
        },
    )
    .await;
    let everything = app
        .ok(
            "search3",
            "&query=&songCount=500&albumCount=0&artistCount=0",
        )
        .await;
    let (_, rest_tracks) = get(
        &client,
        &server.url("/api/v1/tracks?limit=500"),
        Some(&token),
    )
    .await;
    let total = rest_tracks["items"].as_array().unwrap().len();
    assert_eq!(
        everything["searchResult3"]["song"]
            .as_array()
            .unwrap()
            .len(),
        total
    );
    let paged = app
        .ok(
            "search3",
            "&query=%22%22&songCount=5&songOffset=5&albumCount=0&artistCount=0",
        )
        .await;
    assert_eq!(
        paged["searchResult3"]["song"].as_array().unwrap().len(),
        5.min(total - 5)
    );
    // Page by page as a syncing client does (each page continues where the last ended): the
    // same songs, in the same order, as all at once.
    let everything: Vec<&str> = everything["searchResult3"]["song"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    let mut paged_ids = Vec::new();
    for offset in (0..total + 3).step_by(3) {
        let page = app
            .ok(
                "search3",
                &format!("&query=&songCount=3&songOffset={offset}&albumCount=0&artistCount=0"),
            )
            .await;
        for song in page["searchResult3"]["song"].as_array().unwrap() {
            paged_ids.push(song["id"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(paged_ids, everything);

    // Random songs and albums: distinct, as many as asked (or all there are), within years.
    let random = app.ok("getRandomSongs", "&size=5").await;
    let random: Vec<&str> = random["randomSongs"]["song"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(random.len(), 5.min(total));
    assert_eq!(
        random
            .iter()
            .collect::<std::collections::HashSet<_>>()
            .len(),
        random.len()
    );
    let dated = app
        .ok("getRandomSongs", "&size=500&fromYear=2000&toYear=2005")
        .await;
    let dated = dated["randomSongs"]["song"].as_array().unwrap();
    assert!(!dated.is_empty());
    assert!(
        dated.iter().all(|s| s["year"]
            .as_i64()
            .is_some_and(|y| (2000..=2005).contains(&y))),
        "{dated:?}"
    );
    let random_albums = app.ok("getAlbumList2", "&type=random&size=2").await;
    assert_eq!(
        random_albums["albumList2"]["album"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Albums by year: within the range, oldest first, or newest first when asked backwards.
    let years = |reply: &Value| -> Vec<i64> {
        reply["albumList2"]["album"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["year"].as_i64().unwrap())
            .collect()
    };
    let up = years(
        &app.ok(
            "getAlbumList2",
            "&type=byYear&fromYear=1990&toYear=2005&size=500",
        )
        .await,
    );
    assert!(
        !up.is_empty() && up.iter().all(|y| (1990..=2005).contains(y)),
        "{up:?}"
    );
    assert!(up.windows(2).all(|w| w[0] <= w[1]), "{up:?}");
    let down = years(
        &app.ok(
            "getAlbumList2",
            "&type=byYear&fromYear=2005&toYear=1990&size=500",
        )
        .await,
    );
    assert_eq!(down, up.iter().rev().copied().collect::<Vec<_>>());

    // Streaming with a range; cover art at a size.
    let stream = client
        .get(app.url("stream", &format!("&id={song_id}")))
        .header("range", "bytes=10-109")
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 206);
    assert_eq!(stream.bytes().await.unwrap().len(), 100);
    let first_album = albums.iter().find(|a| a["name"] == "First Album").unwrap();
    let cover = client
        .get(app.url(
            "getCoverArt",
            &format!("&id={}&size=64", first_album["id"].as_str().unwrap()),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(cover.status(), 200);
    assert!(cover.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("image/"));
    assert!(!cover.bytes().await.unwrap().is_empty());

    // timeOffset: a transcode from that second on, shorter than the whole track's.
    let one = albums.iter().find(|a| a["name"] == "First Album").unwrap();
    let first_album = app
        .ok("getAlbum", &format!("&id={}", one["id"].as_str().unwrap()))
        .await;
    let two_seconds = first_album["album"]["song"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let whole = client
        .get(app.url("stream", &format!("&id={two_seconds}&format=mp3")))
        .send()
        .await
        .unwrap();
    assert_eq!(whole.headers()["content-type"], "audio/mpeg");
    let whole = whole.bytes().await.unwrap().len();
    let later = client
        .get(app.url("stream", &format!("&id={two_seconds}&timeOffset=1")))
        .send()
        .await
        .unwrap();
    assert_eq!(later.headers()["content-type"], "audio/mpeg");
    let later = later.bytes().await.unwrap().len();
    assert!(
        later > 0 && later < whole * 3 / 4,
        "from 1 s of 2: {later} of {whole} bytes"
    );

    // Playlists made in the app are the web player's.
    let created = app
        .ok(
            "createPlaylist",
            &format!(
                "&name=From%20the%20app&songId={song_id}&songId={}",
                songs[1]["id"].as_str().unwrap()
            ),
        )
        .await;
    let playlist_id = created["playlist"]["id"].as_str().unwrap().to_string();
    assert_eq!(created["playlist"]["songCount"], 2);
    app.ok(
        "updatePlaylist",
        &format!(
            "&playlistId={playlist_id}&name=Renamed&songIndexToRemove=0&songIdToAdd={}",
            songs[2]["id"].as_str().unwrap()
        ),
    )
    .await;
    let (_, rest_playlist) = get(
        &client,
        &server.url(&format!("/api/v1/playlists/{playlist_id}")),
        Some(&token),
    )
    .await;
    assert_eq!(rest_playlist["name"], "Renamed");
    let ids: Vec<&str> = rest_playlist["tracks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["track"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            songs[1]["id"].as_str().unwrap(),
            songs[2]["id"].as_str().unwrap()
        ]
    );
    app.fails(
        "updatePlaylist",
        &format!("&playlistId={playlist_id}&songIndexToRemove=9"),
        0,
    )
    .await;

    // Another listener's public playlist is listed, read-only; their private one is not.
    let (_, bob) = post(
        &client,
        &server.url("/api/v1/auth/signup"),
        credentials("bob"),
        None,
    )
    .await;
    let bob_token = bob["access_token"].as_str().unwrap();
    let (_, shared) = post(
        &client,
        &server.url("/api/v1/playlists"),
        json!({"name": "Bob's", "public": true}),
        Some(bob_token),
    )
    .await;
    post(
        &client,
        &server.url("/api/v1/playlists"),
        json!({"name": "Bob's secret"}),
        Some(bob_token),
    )
    .await;
    let lists = app.ok("getPlaylists", "").await;
    let lists = lists["playlists"]["playlist"].as_array().unwrap();
    let names: Vec<&str> = lists.iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert!(
        names.contains(&"Bob's") && !names.contains(&"Bob's secret"),
        "{names:?}"
    );
    let bobs = lists.iter().find(|p| p["name"] == "Bob's").unwrap();
    assert_eq!(
        (bobs["owner"].as_str(), bobs["readonly"].as_bool()),
        (Some("bob"), Some(true))
    );
    assert_eq!(
        lists
            .iter()
            .find(|p| p["id"] == playlist_id.as_str())
            .unwrap()["readonly"],
        false
    );
    app.fails(
        "updatePlaylist",
        &format!("&playlistId={}&name=Mine", shared["id"].as_str().unwrap()),
        50,
    )
    .await;

    // Stars are likes; scrobbles are plays; the play queue is saved.
    app.ok("star", &format!("&id={song_id}")).await;
    let (_, likes) = get(
        &client,
        &server.url("/api/v1/me/likes/tracks"),
        Some(&token),
    )
    .await;
    assert_eq!(likes["items"][0]["track"]["id"], song_id.as_str());
    // Folder-browsing clients star an album by its id as `id`.
    app.ok("star", &format!("&id={album_id}&artistId={artist_id}"))
        .await;
    let starred = app.ok("getStarred2", "").await;
    assert_eq!(starred["starred2"]["song"][0]["id"], song_id.as_str());
    assert!(starred["starred2"]["song"][0]["starred"].is_string());
    assert_eq!(starred["starred2"]["album"][0]["id"], album_id);
    assert!(starred["starred2"]["album"][0]["starred"].is_string());
    assert_eq!(starred["starred2"]["artist"][0]["id"], artist_id.as_str());
    let (_, liked_albums) = get(
        &client,
        &server.url("/api/v1/me/likes/albums"),
        Some(&token),
    )
    .await;
    assert_eq!(liked_albums["items"][0]["id"], album_id);
    let listed = app.ok("getAlbumList2", "&type=starred").await;
    assert_eq!(listed["albumList2"]["album"][0]["id"], album_id);
    app.ok("unstar", &format!("&artistId={artist_id}")).await;
    let starred = app.ok("getStarred2", "").await;
    assert!(starred["starred2"]["artist"].as_array().unwrap().is_empty());

    // A like made in the web player shows in the app at once.
    let other_song = songs[1]["id"].as_str().unwrap();
    let response = client
        .put(server.url(&format!("/api/v1/me/likes/tracks/{other_song}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let seen = app.ok("getSong", &format!("&id={other_song}")).await;
    assert!(seen["song"]["starred"].is_string(), "{seen}");
    let (_, marks) = get(
        &client,
        &server.url(&format!(
            "/api/v1/me/marks?ids={other_song},{album_id},nope"
        )),
        Some(&token),
    )
    .await;
    assert_eq!(marks["items"].as_array().unwrap().len(), 2, "{marks}");

    // Ratings of songs and albums; 0 removes one; `highest` lists rated albums.
    app.ok("setRating", &format!("&id={song_id}&rating=4"))
        .await;
    app.ok("setRating", &format!("&id={album_id}&rating=5"))
        .await;
    let song = app.ok("getSong", &format!("&id={song_id}")).await;
    assert_eq!(song["song"]["userRating"], 4);
    let (_, rated) = get(
        &client,
        &server.url("/api/v1/me/ratings/tracks"),
        Some(&token),
    )
    .await;
    assert_eq!(rated["items"][0]["id"], song_id.as_str());
    let highest = app.ok("getAlbumList2", "&type=highest").await;
    assert_eq!(highest["albumList2"]["album"][0]["id"], album_id);
    assert_eq!(highest["albumList2"]["album"][0]["userRating"], 5);
    app.ok("setRating", &format!("&id={song_id}&rating=0"))
        .await;
    let song = app.ok("getSong", &format!("&id={song_id}")).await;
    assert!(song["song"].get("userRating").is_none());
    app.ok("scrobble", &format!("&id={song_id}&submission=false"))
        .await;
    let now = app.ok("getNowPlaying", "").await;
    assert_eq!(now["nowPlaying"]["entry"][0]["id"], song_id.as_str());
    assert_eq!(now["nowPlaying"]["entry"][0]["username"], "ann");
    app.ok("scrobble", &format!("&id={song_id}&time=1764150896123"))
        .await;
    let (_, history) = get(&client, &server.url("/api/v1/me/history"), Some(&token)).await;
    assert_eq!(history["items"][0]["track"]["id"], song_id.as_str());
    assert_eq!(history["items"][0]["played_at"], "2025-11-26T09:54:56.123Z");
    app.ok(
        "savePlayQueue",
        &format!(
            "&id={song_id}&id={}&current={}&position=4321",
            songs[1]["id"].as_str().unwrap(),
            songs[1]["id"].as_str().unwrap()
        ),
    )
    .await;
    let queue = app.ok("getPlayQueue", "").await;
    assert_eq!(queue["playQueue"]["entry"].as_array().unwrap().len(), 2);
    assert_eq!(queue["playQueue"]["current"], songs[1]["id"]);
    assert_eq!(queue["playQueue"]["position"], 4321);
    assert_eq!(queue["playQueue"]["changedBy"], "test");

    // Every endpoint, JSON and XML: the same status and the same payload element.
    let calls: Vec<(&str, String)> = vec![
        ("ping", String::new()),
        ("getLicense", String::new()),
        ("getOpenSubsonicExtensions", String::new()),
        ("tokenInfo", String::new()),
        ("getMusicFolders", String::new()),
        ("getIndexes", String::new()),
        ("getArtists", String::new()),
        ("getArtist", format!("&id={artist_id}")),
        ("getAlbum", format!("&id={album_id}")),
        ("getSong", format!("&id={song_id}")),
        ("getMusicDirectory", format!("&id={album_id}")),
        ("getGenres", String::new()),
        ("getAlbumList", "&type=newest".into()),
        ("getAlbumList2", "&type=random".into()),
        ("getAlbumList2", "&type=alphabeticalByArtist".into()),
        (
            "getAlbumList2",
            "&type=byYear&fromYear=2030&toYear=1990".into(),
        ),
        ("getAlbumList2", "&type=byGenre&genre=Rock".into()),
        ("getAlbumList2", "&type=frequent".into()),
        ("getAlbumList2", "&type=recent".into()),
        ("getAlbumList2", "&type=highest".into()),
        ("getAlbumList2", "&type=starred".into()),
        ("getRandomSongs", "&size=3".into()),
        ("getSongsByGenre", "&genre=Rock".into()),
        ("search2", "&query=alpha".into()),
        ("search3", "&query=".into()),
        ("getPlaylists", String::new()),
        ("getPlaylist", format!("&id={playlist_id}")),
        ("getStarred", String::new()),
        ("getStarred2", String::new()),
        ("getNowPlaying", String::new()),
        ("getPlayQueue", String::new()),
        ("getSimilarSongs2", format!("&id={song_id}")),
        ("getTopSongs", "&artist=Beta%20Singer".into()),
        ("getArtistInfo2", format!("&id={artist_id}")),
        ("getAlbumInfo2", format!("&id={album_id}")),
        ("getLyricsBySongId", format!("&id={song_id}")),
        ("getUser", "&username=ann".into()),
        ("getScanStatus", String::new()),
        ("getBookmarks", String::new()),
        ("getInternetRadioStations", String::new()),
        ("setRating", format!("&id={album_id}&rating=3")),
        ("star", format!("&albumId={album_id}")),
        ("unstar", format!("&albumId={album_id}")),
    ];
    for (method, query) in &calls {
        let reply = app.ok(method, query).await;
        let key = reply
            .as_object()
            .unwrap()
            .keys()
            .find(|k| {
                !["status", "version", "type", "serverVersion", "openSubsonic"]
                    .contains(&k.as_str())
            })
            .cloned();
        let (status, element, _) = app.xml(method, query).await;
        assert_eq!(status, "ok", "{method} in XML");
        assert_eq!(element, key, "{method}: the XML payload is the JSON one");
    }
    // The album in XML holds its eight songs as elements.
    let (_, _, elements) = app.xml("getAlbum", &format!("&id={album_id}")).await;
    assert!(elements >= rest_songs.len(), "{elements}");

    // Errors: missing parameters (10), unknown ids (70), not allowed (50), never a 500 or HTML.
    for (method, query, code) in [
        ("getAlbum", String::new(), 10),
        ("getAlbum", "&id=nope".to_string(), 70),
        ("getSong", "&id=nope".to_string(), 70),
        ("getArtist", "&id=nope".to_string(), 70),
        ("getMusicDirectory", "&id=nope".to_string(), 70),
        ("getPlaylist", "&id=nope".to_string(), 70),
        ("getCoverArt", "&id=nope".to_string(), 70),
        ("stream", "&id=nope".to_string(), 70),
        ("stream", String::new(), 10),
        ("star", "&id=nope".to_string(), 70),
        ("star", "&albumId=nope".to_string(), 70),
        ("star", String::new(), 10),
        ("setRating", "&id=nope&rating=3".to_string(), 70),
        ("setRating", format!("&id={song_id}&rating=9"), 0),
        ("setRating", format!("&id={song_id}"), 10),
        ("scrobble", String::new(), 10),
        ("createPlaylist", String::new(), 10),
        ("createPlaylist", "&name=x&songId=nope".to_string(), 70),
        ("getAlbumList2", String::new(), 10),
        ("getAlbumList2", "&type=sideways".to_string(), 0),
        ("getAlbumList2", "&type=newest&size=lots".to_string(), 0),
        // Other accounts are an admin's business, not an app's.
        ("getUser", "&username=somebody".to_string(), 50),
        ("deletePlaylist", "&id=nope".to_string(), 70),
    ] {
        app.fails(method, &query, code).await;
        let (status, element, _) = app.xml(method, &query).await;
        assert_eq!(
            (status.as_str(), element.as_deref()),
            ("failed", Some("error")),
            "{method}{query}"
        );
    }
    // Nothing half-done: the failed playlist creation made no playlist.
    let (_, mine) = get(&client, &server.url("/api/v1/me/playlists"), Some(&token)).await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    app.ok("deletePlaylist", &format!("&id={playlist_id}"))
        .await;
    let (status, _) = get(
        &client,
        &server.url(&format!("/api/v1/playlists/{playlist_id}")),
        Some(&token),
    )
    .await;
    assert_eq!(status, 404);
    assert!(!server.log_text().contains("panicked"));
    drop(server);
    env.finish().await;
}

#[tokio::test]
async fn app_passwords_on_sqlite() {
    app_passwords_sign_apps_in(Env::embedded().await).await;
}

#[tokio::test]
async fn app_passwords_on_postgres_and_nats() {
    app_passwords_sign_apps_in(Env::external().await).await;
}

#[tokio::test]
async fn every_endpoint_on_sqlite() {
    every_endpoint_answers_json_and_xml(Env::embedded().await).await;
}

#[tokio::test]
async fn every_endpoint_on_postgres_and_nats() {
    every_endpoint_answers_json_and_xml(Env::external().await).await;
}

/// Every object's field names, by where the object sits (`.playlist.entry[]`, ...).
fn shapes(
    value: &Value,
    path: &str,
    out: &mut std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
) {
    match value {
        Value::Object(map) => {
            out.entry(path.to_string())
                .or_default()
                .extend(map.keys().cloned());
            for (key, child) in map {
                shapes(child, &format!("{path}.{key}"), out);
            }
        }
        Value::Array(items) => {
            for item in items {
                shapes(item, &format!("{path}[]"), out);
            }
        }
        _ => {}
    }
}

/// Beatstream's replies carry every field of real Navidrome replies to the same calls
/// (tests/navidrome/, from the subsonic-types crate), but for what Beatstream does not have.
#[tokio::test]
async fn replies_carry_every_field_navidrome_sends() {
    let env = Env::embedded().await;
    let (server, token) = start_with_library(&env).await;
    let client = reqwest::Client::new();
    let (_, made) = post(
        &client,
        &server.url("/api/v1/me/app-passwords"),
        json!({"name": "x"}),
        Some(&token),
    )
    .await;
    let app = App {
        client: client.clone(),
        base: server.url(""),
        auth: format!("u=ann&p={}", made["password"].as_str().unwrap()),
    };
    // A playlist of two songs with every tag (the First Album's).
    let albums = app
        .ok("getAlbumList2", "&type=alphabeticalByName&size=500")
        .await;
    let first = albums["albumList2"]["album"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "First Album")
        .unwrap()
        .clone();
    let album = app
        .ok(
            "getAlbum",
            &format!("&id={}", first["id"].as_str().unwrap()),
        )
        .await;
    let songs = album["album"]["song"].as_array().unwrap();
    let created = app
        .ok(
            "createPlaylist",
            &format!(
                "&name=2023-02-27&songId={}&songId={}",
                songs[0]["id"].as_str().unwrap(),
                songs[2]["id"].as_str().unwrap()
            ),
        )
        .await;
    let playlist_id = created["playlist"]["id"].as_str().unwrap().to_string();
    // What Beatstream does not have: artist images (no internet lookups; `coverArt` stands in).
    let absent = ["artistImageUrl"];
    for (sample, method, query) in [
        ("get-artists.json", "getArtists", String::new()),
        ("get-genres.json", "getGenres", String::new()),
        (
            "get-lyrics.json",
            "getLyrics",
            "&artist=Alpha%20Artist&title=One".to_string(),
        ),
        (
            "get-playlist.json",
            "getPlaylist",
            format!("&id={playlist_id}"),
        ),
        ("get-playlists.json", "getPlaylists", String::new()),
        (
            "get-random-songs.json",
            "getRandomSongs",
            "&size=3".to_string(),
        ),
    ] {
        let text = std::fs::read_to_string(format!(
            "{}/tests/navidrome/{sample}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let theirs: Value = serde_json::from_str(&text).unwrap();
        let mut expected = Default::default();
        shapes(&theirs["subsonic-response"], "", &mut expected);
        let ours = app.ok(method, &query).await;
        let mut got = Default::default();
        shapes(&ours, "", &mut got);
        for (path, fields) in &expected {
            let have = got
                .get(path)
                .unwrap_or_else(|| panic!("{method}: no {path} in {ours}"));
            let missing: Vec<&String> = fields
                .iter()
                .filter(|f| !have.contains(*f) && !absent.contains(&f.as_str()))
                .collect();
            assert!(
                missing.is_empty(),
                "{method}: {path} lacks {missing:?} (Navidrome has them)"
            );
        }
    }
    drop(server);
    env.finish().await;
}
