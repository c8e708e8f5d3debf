//! The Subsonic API's transport and sign-in through the real binary: `.view` or not, GET or
//! form POST, XML by default, JSON and JSONP on request, `apiKey` sign-in, and Subsonic error
//! codes in HTTP 200 replies.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::{json, Value};
use support::{credentials, post, Env};

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

    // Errors: no credentials (10), a wrong key (44), both mechanisms (43), u+p (42 for now),
    // an unknown method (70).
    for (query, code) in [
        ("/rest/ping?f=json".to_string(), 10),
        ("/rest/ping?f=json&apiKey=bsp_wrong".to_string(), 44),
        (format!("/rest/ping?f=json&apiKey={key}&u=listener"), 43),
        ("/rest/ping?f=json&u=listener&p=secret".to_string(), 42),
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
