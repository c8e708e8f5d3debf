//! The Subsonic API through the real binary: the transport (`.view` or not, GET or form POST,
//! XML by default, JSON and JSONP), sign-in with app passwords (`p`, `p=enc:`, `t`+`s`) and API
//! keys, every endpoint in JSON and in XML with the same content, Subsonic error codes in HTTP
//! 200 replies, and what an app does showing through the REST API (and so in the web player),
//! on SQLite and on PostgreSQL with NATS.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::{json, Value};
use std::time::Duration;
use support::{copy_fixture_library, credentials, get, post, Env, Server};

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

    // Search: a typed query, and the empty query listing everything, paged.
    let found = app.ok("search3", "&query=second").await;
    assert!(found["searchResult3"]["album"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["id"] == album_id));
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

    // Stars are likes; scrobbles are plays; the play queue is saved.
    app.ok("star", &format!("&id={song_id}")).await;
    let (_, likes) = get(
        &client,
        &server.url("/api/v1/me/likes/tracks"),
        Some(&token),
    )
    .await;
    assert_eq!(likes["items"][0]["track"]["id"], song_id.as_str());
    let starred = app.ok("getStarred2", "").await;
    assert_eq!(starred["starred2"]["song"][0]["id"], song_id.as_str());
    assert!(starred["starred2"]["song"][0]["starred"].is_string());
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
        ("scrobble", String::new(), 10),
        ("createPlaylist", String::new(), 10),
        ("createPlaylist", "&name=x&songId=nope".to_string(), 70),
        ("getAlbumList2", String::new(), 10),
        ("getAlbumList2", "&type=sideways".to_string(), 0),
        ("getAlbumList2", "&type=newest&size=lots".to_string(), 0),
        ("getUser", "&username=somebody".to_string(), 70),
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
