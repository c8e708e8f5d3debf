//! The whole one-process app driven through HTTP requests without a socket (`oneshot`), on
//! SQLite and the in-process bus: what a client sees at the edge.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod harness;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use harness::{app, app_with, error_code, token, App};
use serde_json::json;
use tower::ServiceExt;

#[tokio::test]
async fn signup_then_me_shows_the_profile_with_contract_fields() {
    let app = app().await;
    let (status, session, _) = app
        .call(
            "POST",
            "/api/v1/auth/signup",
            None,
            Some(json!({"username": "ana", "password": "long enough password", "email": "ana@example.com", "display_name": "Ana"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(session["token_type"], "Bearer");
    assert_eq!(session["expires_in"], 900);
    assert_eq!(session["user"]["username"], "ana");
    assert_eq!(session["user"]["role"], "admin");
    let (status, me, _) = app
        .call("GET", "/api/v1/me", Some(&token(&session)), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["id"], session["user"]["id"]);
    assert_eq!(me["email"], "ana@example.com");
    assert_eq!(me["display_name"], "Ana");
    assert_eq!(me["role"], "admin");
    assert_eq!(me["preferences"]["favorite_genres"], json!([]));
    assert!(me["created_at"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test]
async fn authenticated_routes_answer_401_in_the_error_format() {
    let app = app().await;
    let (status, body, _) = app.call("GET", "/api/v1/me", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(&body), "unauthenticated");
    let (status, body, _) = app.call("GET", "/api/v1/me", Some("garbage"), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(&body), "invalid_token");
    let (status, body, _) = app
        .call("GET", "/api/v1/me", Some("bsp_revoked_or_unknown"), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
}

#[tokio::test]
async fn bad_bodies_get_clear_4xx() {
    let app = app().await;
    let cases = [
        (
            json!({"username": "b", "password": "long enough password"}),
            "invalid_argument",
        ),
        (
            json!({"username": "bob", "password": "short"}),
            "invalid_argument",
        ),
        (
            json!({"username": "bob", "password": "long enough password", "admin": true}),
            "invalid_body",
        ),
        (
            json!({"username": 5, "password": "long enough password"}),
            "invalid_body",
        ),
        (json!({"password": "long enough password"}), "invalid_body"),
    ];
    for (body, code) in cases {
        let (status, reply, _) = app
            .call("POST", "/api/v1/auth/signup", None, Some(body.clone()))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body} -> {reply}");
        assert_eq!(error_code(&reply), code, "{body} -> {reply}");
    }
    let (status, reply, _) = app
        .call(
            "POST",
            "/api/v1/auth/signup",
            None,
            Some(json!({"username": "bob", "password": "long enough password", "admin": true})),
        )
        .await;
    assert!(
        reply["error"]["message"]
            .as_str()
            .unwrap()
            .contains("admin"),
        "names the unknown field"
    );
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let request = Request::builder()
        .method("POST")
        .uri("/api/v1/auth/login")
        .header("content-type", "application/json")
        .body(Body::from("{\"username\": "))
        .unwrap();
    let response = app.router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    let huge = json!({"username": "x".repeat(2 << 20), "password": "p"});
    let (status, _, _) = app
        .call("POST", "/api/v1/auth/login", None, Some(huge))
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn duplicate_username_is_409_username_taken() {
    let app = app().await;
    app.signup("cy").await;
    let (status, body, _) = app
        .call(
            "POST",
            "/api/v1/auth/signup",
            None,
            Some(json!({"username": "CY", "password": "long enough password"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(error_code(&body), "username_taken");
}

#[tokio::test]
async fn wrong_password_is_401_and_hammering_is_429_with_retry_after() {
    let app = app_with("[auth]\nlogin_attempts_per_account_per_minute = 3\n").await;
    app.signup("dee").await;
    for _ in 0..3 {
        let (status, body, _) = app
            .call(
                "POST",
                "/api/v1/auth/login",
                None,
                Some(json!({"username": "dee", "password": "wrong password"})),
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(error_code(&body), "invalid_credentials");
    }
    let (status, body, headers) = app
        .call(
            "POST",
            "/api/v1/auth/login",
            None,
            Some(json!({"username": "dee", "password": "long enough password"})),
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry));
}

#[tokio::test]
async fn patch_me_changes_preferences_and_rejects_bad_ones() {
    let app = app().await;
    let session = app.signup("eve").await;
    let token = token(&session);
    let (status, me, _) = app
        .call(
            "PATCH",
            "/api/v1/me",
            Some(&token),
            Some(json!({"display_name": "Eve", "preferences": {"favorite_genres": ["Ambient"], "favorite_artists": ["Björk"], "streaming_quality": "lossless"}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["preferences"]["favorite_artists"], json!(["Björk"]));
    assert_eq!(me["preferences"]["streaming_quality"], "lossless");
    for bad in [
        json!({"preferences": {"streaming_quality": "ultra"}}),
        json!({"preferences": {"favorite_genres": vec!["x"; 51]}}),
        json!({"email": "no"}),
        json!({"role": "admin"}),
    ] {
        let (status, body, _) = app
            .call("PATCH", "/api/v1/me", Some(&token), Some(bad.clone()))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad} -> {body}");
    }
    let (_, me, _) = app.call("GET", "/api/v1/me", Some(&token), None).await;
    assert_eq!(
        me["display_name"], "Eve",
        "nothing changed by the refused patches"
    );
    assert_eq!(me["role"], "admin");
}

#[tokio::test]
async fn admin_routes_are_for_admins_and_disabling_ends_sessions() {
    let app = app().await;
    let admin = token(&app.signup("root").await);
    let user_session = app.signup("fay").await;
    let user = token(&user_session);
    let user_id = user_session["user"]["id"].as_str().unwrap().to_string();

    let (status, _, _) = app
        .call("GET", "/api/v1/admin/users", Some(&user), None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Profiles arrive by event; /me waits for the caller's own, so both exist after these.
    app_user_id(&app, &admin).await;
    app_user_id(&app, &user).await;
    let (status, list, _) = app
        .call("GET", "/api/v1/admin/users?limit=1", Some(&admin), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert!(list["next_cursor"].is_string());
    let (status, _, _) = app
        .call("GET", "/api/v1/admin/users?limit=9999", Some(&admin), None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (status, public, _) = app
        .call(
            "GET",
            &format!("/api/v1/users/{user_id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(public["username"], "fay");
    assert!(public.get("email").is_none(), "public profiles hide e-mail");

    let (status, changed, _) = app
        .call(
            "PATCH",
            &format!("/api/v1/admin/users/{user_id}"),
            Some(&admin),
            Some(json!({"disabled": true})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["disabled"], true);
    // The refresh token dies as soon as auth has the event (in-process: at once).
    let refresh = user_session["refresh_token"].as_str().unwrap();
    let mut refused = false;
    for _ in 0..50 {
        let (status, _, _) = app
            .call(
                "POST",
                "/api/v1/auth/refresh",
                None,
                Some(json!({"refresh_token": refresh})),
            )
            .await;
        if status != StatusCode::OK {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(refused, "a disabled user's refresh token must stop working");
    let (status, body, _) = app
        .call(
            "POST",
            "/api/v1/auth/login",
            None,
            Some(json!({"username": "fay", "password": "long enough password"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(error_code(&body), "account_disabled");

    let (status, body, _) = app
        .call(
            "PATCH",
            &format!("/api/v1/admin/users/{}", app_user_id(&app, &admin).await),
            Some(&admin),
            Some(json!({"role": "user"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(error_code(&body), "last_admin");
}

async fn app_user_id(app: &App, token: &str) -> String {
    let (_, me, _) = app.call("GET", "/api/v1/me", Some(token), None).await;
    me["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn closed_signup_is_403_but_admins_create_accounts() {
    let app = app_with("[auth]\nopen_signup = false\n").await;
    let admin = token(&app.signup("boss").await);
    let (status, body, _) = app
        .call(
            "POST",
            "/api/v1/auth/signup",
            None,
            Some(json!({"username": "guest", "password": "long enough password"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(error_code(&body), "signup_closed");
    let (status, created, _) = app
        .call(
            "POST",
            "/api/v1/admin/users",
            Some(&admin),
            Some(json!({"username": "guest", "password": "long enough password"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["role"], "user");
    let (status, _, _) = app
        .call(
            "POST",
            "/api/v1/auth/login",
            None,
            Some(json!({"username": "guest", "password": "long enough password"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn api_tokens_work_as_bearer_until_revoked() {
    let app = app().await;
    let session = app.signup("gus").await;
    let access = token(&session);
    let (status, created, _) = app
        .call(
            "POST",
            "/api/v1/me/tokens",
            Some(&access),
            Some(json!({"name": "cli"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let secret = created["token"].as_str().unwrap().to_string();
    let (status, me, _) = app.call("GET", "/api/v1/me", Some(&secret), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["username"], "gus");
    let (_, list, _) = app
        .call("GET", "/api/v1/me/tokens", Some(&access), None)
        .await;
    assert_eq!(list["items"][0]["name"], "cli");
    assert!(
        list["items"][0].get("token").is_none(),
        "the secret is shown once"
    );
    let id = created["id"].as_str().unwrap();
    let (status, _, _) = app
        .call(
            "DELETE",
            &format!("/api/v1/me/tokens/{id}"),
            Some(&access),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, _) = app
        .call(
            "DELETE",
            &format!("/api/v1/me/tokens/{id}"),
            Some(&access),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn operations_routes_answer() {
    let app = app().await;
    let (status, _, _) = app.call("GET", "/healthz", None, None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, ready, _) = app.call("GET", "/readyz", None, None).await;
    assert_eq!(status, StatusCode::OK, "{ready}");
    let (status, jwks, _) = app.call("GET", "/.well-known/jwks.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(jwks["keys"][0]["kty"], "OKP");
    assert_eq!(jwks["keys"][0]["alg"], "EdDSA");
    app.call("GET", "/api/v1/me", None, None).await;
    let (status, metrics, _) = app.call("GET", "/metrics", None, None).await;
    assert_eq!(status, StatusCode::OK);
    let metrics = metrics.as_str().unwrap();
    assert!(metrics.contains("http_requests_total"), "{metrics}");
    assert!(metrics.contains("route=\"/api/v1/me\""), "{metrics}");
    assert!(
        metrics.contains("http_request_duration_seconds_bucket"),
        "{metrics}"
    );
    let (status, doc, _) = app.call("GET", "/api/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/api/v1/auth/signup",
        "/api/v1/auth/login",
        "/api/v1/auth/refresh",
        "/api/v1/auth/logout",
        "/api/v1/me",
        "/api/v1/admin/users",
        "/api/v1/me/tokens",
        "/api/v1/events",
        "/api/v1/me/devices",
        "/api/v1/me/devices/{id}/commands",
        "/api/v1/me/player/transfer",
        "/api/v1/sessions",
        "/api/v1/sessions/{id}/playback",
    ] {
        assert!(doc["paths"].get(path).is_some(), "openapi lacks {path}");
    }
    let (status, page, _) = app.call("GET", "/api/docs", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.as_str().unwrap().contains("/api/openapi.json"));
    let (status, body, headers) = app.call("GET", "/api/v1/no/such/route", None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&body), "route_not_found");
    assert!(headers.contains_key("x-request-id"));
    let (status, body, _) = app.call("DELETE", "/api/v1/auth/login", None, None).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(error_code(&body), "method_not_allowed");
}

#[tokio::test]
async fn request_ids_are_passed_on() {
    let app = app().await;
    let request = Request::builder()
        .uri("/healthz")
        .header("x-request-id", "abc-123")
        .body(Body::empty())
        .unwrap();
    let response = app.router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.headers()["x-request-id"], "abc-123");
}
