//! The auth service against both SQL backends: accounts, sessions, API tokens, keys.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use beatstream_auth::model::NewAccount;
use beatstream_auth::model::SubsonicProof;
use beatstream_auth::secrets::SecretsKey;
use beatstream_auth::store::AuthStore;
use beatstream_auth::{AuthError, AuthService, AuthSettings, MIGRATIONS};
use beatstream_core::{Caller, UserRole};
use beatstream_db::{backend_tests, Db};
use beatstream_events::outbox::{self, OutboxWaker};
use beatstream_events::users::AccountChanged;
use beatstream_events::Envelope;

fn settings() -> AuthSettings {
    AuthSettings {
        open_signup: true,
        access_token_ttl_secs: 900,
        refresh_token_ttl_secs: 3600,
        login_attempts_per_account_per_minute: 5,
        login_attempts_per_address_per_minute: 100,
        secrets_key: SecretsKey::generate(),
    }
}

async fn service(db: &Db, settings: AuthSettings) -> AuthService {
    AuthService::new(AuthStore::new(db.clone()), settings, OutboxWaker::default())
        .await
        .unwrap()
}

fn account(username: &str) -> NewAccount {
    NewAccount {
        username: username.into(),
        password: "long enough password".into(),
        email: None,
        display_name: None,
    }
}

async fn first_account_is_admin_and_later_ones_are_users(db: Db) {
    let auth = service(&db, settings()).await;
    let first = auth.signup(account("first"), None).await.unwrap();
    let second = auth.signup(account("second"), None).await.unwrap();
    assert_eq!(first.user.role, UserRole::Admin);
    assert_eq!(second.user.role, UserRole::User);
    assert_eq!(
        outbox::pending_count(&db).await.unwrap(),
        2,
        "one auth.user.created each"
    );
}

async fn concurrent_first_signups_make_exactly_one_admin(db: Db) {
    let auth = service(&db, settings()).await;
    let signups = (0..6).map(|i| {
        let auth = auth.clone();
        tokio::spawn(async move {
            auth.signup(account(&format!("racer{i}")), None)
                .await
                .unwrap()
        })
    });
    let mut admins = 0;
    for signup in signups {
        if signup.await.unwrap().user.role == UserRole::Admin {
            admins += 1;
        }
    }
    assert_eq!(admins, 1);
}

async fn usernames_are_unique_regardless_of_case(db: Db) {
    let auth = service(&db, settings()).await;
    auth.signup(account("Alice"), None).await.unwrap();
    let err = auth.signup(account("alice"), None).await.unwrap_err();
    assert!(matches!(err, AuthError::UsernameTaken), "{err:?}");
    assert_eq!(
        outbox::pending_count(&db).await.unwrap(),
        1,
        "nothing written for the refused one"
    );
}

async fn bad_input_is_refused_before_anything_is_written(db: Db) {
    let auth = service(&db, settings()).await;
    let cases = [
        NewAccount {
            password: "short".into(),
            ..account("bob")
        },
        NewAccount {
            password: "".into(),
            ..account("bob")
        },
        account("a"),
        account(&"x".repeat(33)),
        account("bad name"),
        NewAccount {
            email: Some("not-an-email".into()),
            ..account("bob")
        },
        NewAccount {
            display_name: Some("d".repeat(101)),
            ..account("bob")
        },
        NewAccount {
            password: "p".repeat(2000),
            ..account("bob")
        },
    ];
    for case in cases {
        let err = auth.signup(case.clone(), None).await.unwrap_err();
        assert!(
            matches!(err, AuthError::Invalid { .. }),
            "{case:?} gave {err:?}"
        );
    }
    assert_eq!(outbox::pending_count(&db).await.unwrap(), 0);
    assert!(auth
        .store()
        .credentials_by_username("bob")
        .await
        .unwrap()
        .is_none());
}

async fn closed_signup_refuses_strangers_but_not_admins(db: Db) {
    let auth = service(
        &db,
        AuthSettings {
            open_signup: false,
            ..settings()
        },
    )
    .await;
    let admin = auth.signup(account("root"), None).await.unwrap();
    assert_eq!(
        admin.user.role,
        UserRole::Admin,
        "the first account can always be made"
    );
    let err = auth.signup(account("stranger"), None).await.unwrap_err();
    assert!(matches!(err, AuthError::SignupClosed), "{err:?}");
    let by = Caller {
        user_id: admin.user.user_id.clone(),
        username: "root".into(),
        role: UserRole::Admin,
        scope: beatstream_core::Scope::Full,
    };
    auth.signup(account("invited"), Some(&by)).await.unwrap();
    let made = auth
        .create_account(account("made"), Some(UserRole::Admin), true)
        .await
        .unwrap();
    assert_eq!(made.role, UserRole::Admin);
}

async fn login_checks_the_password(db: Db) {
    let auth = service(&db, settings()).await;
    auth.signup(account("carol"), None).await.unwrap();
    let session = auth
        .login("CAROL", "long enough password", None)
        .await
        .unwrap();
    assert_eq!(session.user.username, "carol");
    assert!(matches!(
        auth.login("carol", "wrong password!", None).await,
        Err(AuthError::InvalidCredentials)
    ));
    assert!(matches!(
        auth.login("nobody", "long enough password", None).await,
        Err(AuthError::InvalidCredentials)
    ));
}

async fn login_attempts_are_rate_limited_per_account(db: Db) {
    let auth = service(&db, settings()).await;
    auth.signup(account("dave"), None).await.unwrap();
    for _ in 0..5 {
        let _ = auth.login("dave", "wrong password!", None).await;
    }
    let err = auth
        .login("dave", "long enough password", None)
        .await
        .unwrap_err();
    match err {
        AuthError::RateLimited { retry_after_secs } => {
            assert!((1..=60).contains(&retry_after_secs))
        }
        other => panic!("expected rate limit, got {other:?}"),
    }
    auth.login("other-account", "x", None).await.unwrap_err();
}

async fn refresh_rotates_and_reuse_revokes_the_family(db: Db) {
    let auth = service(&db, settings()).await;
    let first = auth.signup(account("erin"), None).await.unwrap();
    let second = auth.refresh(&first.refresh_token).await.unwrap();
    assert_ne!(second.refresh_token, first.refresh_token);
    // The old token again: reuse. The whole family, the fresh token included, dies.
    assert!(matches!(
        auth.refresh(&first.refresh_token).await,
        Err(AuthError::RefreshTokenReused)
    ));
    assert!(matches!(
        auth.refresh(&second.refresh_token).await,
        Err(AuthError::InvalidRefreshToken)
    ));
    // Another login is another family and still works.
    let other = auth
        .login("erin", "long enough password", None)
        .await
        .unwrap();
    auth.refresh(&other.refresh_token).await.unwrap();
    assert!(matches!(
        auth.refresh("bsr_garbage").await,
        Err(AuthError::InvalidRefreshToken)
    ));
}

async fn logout_ends_the_session(db: Db) {
    let auth = service(&db, settings()).await;
    let session = auth.signup(account("frank"), None).await.unwrap();
    auth.logout(&session.refresh_token).await.unwrap();
    assert!(auth.refresh(&session.refresh_token).await.is_err());
    auth.logout("unknown").await.unwrap();
}

async fn access_tokens_verify_and_carry_the_caller(db: Db) {
    let auth = service(&db, settings()).await;
    let session = auth.signup(account("gina"), None).await.unwrap();
    let caller = auth.verifier().verify(&session.access_token).await.unwrap();
    assert_eq!(caller.user_id, session.user.user_id);
    assert_eq!(caller.username, "gina");
    assert!(auth.verifier().verify("not.a.jwt").await.is_err());
    let mut tampered = session.access_token.clone();
    tampered.pop();
    tampered.push(if session.access_token.ends_with('A') {
        'B'
    } else {
        'A'
    });
    assert!(auth.verifier().verify(&tampered).await.is_err());
}

async fn rotated_keys_keep_old_tokens_valid(db: Db) {
    let auth = service(&db, settings()).await;
    let before = auth.signup(account("hank"), None).await.unwrap();
    let old_kid = auth.keys().jwks().keys[0].kid.clone();
    let new_kid = auth.keys().rotate().await.unwrap();
    assert_ne!(old_kid, new_kid);
    let kids: Vec<String> = auth.keys().jwks().keys.into_iter().map(|k| k.kid).collect();
    assert!(
        kids.contains(&old_kid) && kids.contains(&new_kid),
        "{kids:?}"
    );
    // A fresh service (another instance, or a restart) verifies the old token too.
    let restarted = service(&db, settings()).await;
    restarted
        .verifier()
        .verify(&before.access_token)
        .await
        .unwrap();
    let after = restarted
        .login("hank", "long enough password", None)
        .await
        .unwrap();
    auth.verifier().verify(&after.access_token).await.unwrap();
}

async fn api_tokens_authenticate_until_revoked(db: Db) {
    let auth = service(&db, settings()).await;
    let session = auth.signup(account("ivy"), None).await.unwrap();
    let caller = Caller {
        user_id: session.user.user_id.clone(),
        username: "ivy".into(),
        role: UserRole::Admin,
        scope: beatstream_core::Scope::Full,
    };
    let (token, secret) = auth.create_api_token(&caller, "scripts").await.unwrap();
    assert!(secret.starts_with("bsp_"));
    let listed = auth.list_api_tokens(&caller).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].name, "scripts");
    assert_eq!(
        auth.verifier().verify(&secret).await.unwrap().user_id,
        caller.user_id
    );
    auth.revoke_api_token(&caller, &token.id).await.unwrap();
    assert!(auth.list_api_tokens(&caller).await.unwrap().is_empty());
    // A fresh verifier (no cache) refuses it at once.
    let restarted = service(&db, settings()).await;
    assert!(restarted.verifier().verify(&secret).await.is_err());
    assert!(matches!(
        auth.revoke_api_token(&caller, &token.id).await,
        Err(AuthError::TokenNotFound)
    ));
    assert!(auth.create_api_token(&caller, "  ").await.is_err());
}

async fn disabling_an_account_revokes_refresh_tokens_and_blocks_login(db: Db) {
    let auth = service(&db, settings()).await;
    auth.signup(account("admin"), None).await.unwrap();
    let session = auth.signup(account("jack"), None).await.unwrap();
    let event = Envelope::new(&AccountChanged {
        user_id: session.user.user_id.clone(),
        role: UserRole::User,
        disabled: true,
    })
    .unwrap();
    auth.apply_account_changed(&event).await.unwrap();
    auth.apply_account_changed(&event).await.unwrap(); // redelivered: no harm
    assert!(auth.refresh(&session.refresh_token).await.is_err());
    assert!(matches!(
        auth.login("jack", "long enough password", None).await,
        Err(AuthError::AccountDisabled)
    ));
    // Re-enabled and promoted: new tokens carry the new role.
    let enable = Envelope::new(&AccountChanged {
        user_id: session.user.user_id.clone(),
        role: UserRole::Admin,
        disabled: false,
    })
    .unwrap();
    auth.apply_account_changed(&enable).await.unwrap();
    let again = auth
        .login("jack", "long enough password", None)
        .await
        .unwrap();
    assert_eq!(
        auth.verifier()
            .verify(&again.access_token)
            .await
            .unwrap()
            .role,
        UserRole::Admin
    );
}

fn md5_token(password: &str, salt: &str) -> SubsonicProof {
    use md5::{Digest, Md5};
    SubsonicProof::Token {
        token: format!("{:x}", Md5::digest(format!("{password}{salt}").as_bytes())),
        salt: salt.into(),
    }
}

async fn app_passwords_sign_subsonic_clients_in_until_revoked(db: Db) {
    let auth = service(&db, settings()).await;
    let session = auth.signup(account("joy"), None).await.unwrap();
    let caller = Caller {
        user_id: session.user.user_id.clone(),
        username: "joy".into(),
        role: UserRole::Admin,
        scope: beatstream_core::Scope::Full,
    };
    let (made, password) = auth.create_app_password(&caller, "phone").await.unwrap();
    let (_, other) = auth.create_app_password(&caller, "car").await.unwrap();
    assert_ne!(password, other);
    let listed = auth.list_app_passwords(&caller).await.unwrap();
    assert_eq!(
        listed.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
        ["car", "phone"]
    );

    // The password itself, or md5(password + salt) with salts of any alphabet.
    for proof in [
        SubsonicProof::Password(password.clone()),
        // Typed without its dashes.
        SubsonicProof::Password(password.replace('-', "")),
        md5_token(&password.replace('-', ""), "x1y2z3"),
        md5_token(&password, "c19b2d"),
        md5_token(&password, "Zz-9_ü~ salt"),
        md5_token(&other, "x"),
    ] {
        let grant = auth.subsonic_sign_in("JOY", &proof, None).await.unwrap();
        assert_eq!(grant.user.user_id, caller.user_id);
        let verified = auth.verifier().verify(&grant.access_token).await.unwrap();
        assert_eq!(verified.user_id, caller.user_id);
        assert_eq!(
            verified.scope,
            beatstream_core::Scope::Listening,
            "an app password's token is for listening only"
        );
        assert!(verified.require_full_scope().is_err());
    }
    // The account password works as `p`, never as a token (it is not recoverable).
    assert!(auth
        .subsonic_sign_in(
            "joy",
            &SubsonicProof::Password("long enough password".into()),
            None
        )
        .await
        .is_ok());
    for proof in [
        md5_token("long enough password", "abc"),
        // A token made with another salt.
        match md5_token(&password, "other salt") {
            SubsonicProof::Token { token, .. } => SubsonicProof::Token {
                token,
                salt: "abc".into(),
            },
            proof => proof,
        },
        SubsonicProof::Password("wrong".into()),
    ] {
        assert!(matches!(
            auth.subsonic_sign_in("joy", &proof, None).await,
            Err(AuthError::InvalidCredentials)
        ));
    }
    assert!(matches!(
        auth.subsonic_sign_in("nobody", &SubsonicProof::Password(password.clone()), None)
            .await,
        Err(AuthError::InvalidCredentials)
    ));

    auth.revoke_app_password(&caller, &made.id).await.unwrap();
    assert!(matches!(
        auth.revoke_app_password(&caller, &made.id).await,
        Err(AuthError::AppPasswordNotFound)
    ));
    assert!(matches!(
        auth.subsonic_sign_in("joy", &md5_token(&password, "s"), None)
            .await,
        Err(AuthError::InvalidCredentials)
    ));
    assert!(auth
        .subsonic_sign_in("joy", &md5_token(&other, "s"), None)
        .await
        .is_ok());
    assert_eq!(auth.list_app_passwords(&caller).await.unwrap().len(), 1);
    let listed = auth.list_app_passwords(&caller).await.unwrap();
    assert!(listed[0].last_used_at.is_some(), "a use is recorded");

    // Another user cannot revoke it.
    let stranger = auth.signup(account("kay"), None).await.unwrap();
    let stranger = Caller {
        user_id: stranger.user.user_id,
        username: "kay".into(),
        role: UserRole::User,
        scope: beatstream_core::Scope::Full,
    };
    assert!(matches!(
        auth.revoke_app_password(&stranger, &listed[0].id).await,
        Err(AuthError::AppPasswordNotFound)
    ));
    assert!(auth.create_app_password(&caller, "  ").await.is_err());
}

async fn app_passwords_are_sealed_at_rest(db: Db) {
    let key = SecretsKey::generate();
    let auth = service(
        &db,
        AuthSettings {
            secrets_key: key.clone(),
            ..settings()
        },
    )
    .await;
    let session = auth.signup(account("lou"), None).await.unwrap();
    let caller = Caller {
        user_id: session.user.user_id.clone(),
        username: "lou".into(),
        role: UserRole::Admin,
        scope: beatstream_core::Scope::Full,
    };
    let (_, password) = auth.create_app_password(&caller, "phone").await.unwrap();
    let stored = AuthStore::new(db.clone())
        .app_passwords(&caller.user_id)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert!(!stored[0].1.contains(&password), "not in the clear");
    // With another key (a copy of the database alone), the password is of no use.
    let elsewhere = service(&db, settings()).await;
    assert!(elsewhere
        .subsonic_sign_in("lou", &SubsonicProof::Password(password.clone()), None)
        .await
        .is_err());
    let same_key = service(
        &db,
        AuthSettings {
            secrets_key: key,
            ..settings()
        },
    )
    .await;
    assert!(same_key
        .subsonic_sign_in("lou", &SubsonicProof::Password(password), None)
        .await
        .is_ok());
}

async fn failed_subsonic_sign_ins_are_rate_limited(db: Db) {
    let auth = service(&db, settings()).await;
    let session = auth.signup(account("max"), None).await.unwrap();
    let caller = Caller {
        user_id: session.user.user_id.clone(),
        username: "max".into(),
        role: UserRole::Admin,
        scope: beatstream_core::Scope::Full,
    };
    let (_, password) = auth.create_app_password(&caller, "phone").await.unwrap();
    // Successes do not count: clients sign every call.
    for n in 0..20 {
        auth.subsonic_sign_in("max", &md5_token(&password, &n.to_string()), None)
            .await
            .unwrap();
    }
    for _ in 0..5 {
        assert!(matches!(
            auth.subsonic_sign_in("max", &md5_token("guess", "s"), None)
                .await,
            Err(AuthError::InvalidCredentials)
        ));
    }
    // Out of attempts: even the right password waits, so guessing learns nothing.
    assert!(matches!(
        auth.subsonic_sign_in("max", &md5_token(&password, "s"), None)
            .await,
        Err(AuthError::RateLimited { .. })
    ));
    // Apart from web logins: the owner can still sign in to fix the app.
    auth.login("max", "long enough password", None)
        .await
        .unwrap();
    // And per client address: another address is not locked out.
    let elsewhere = Some("192.0.2.7".parse().unwrap());
    auth.subsonic_sign_in("max", &md5_token(&password, "s"), elsewhere)
        .await
        .unwrap();
}

backend_tests!("auth", &MIGRATIONS;
    first_account_is_admin_and_later_ones_are_users,
    concurrent_first_signups_make_exactly_one_admin,
    usernames_are_unique_regardless_of_case,
    bad_input_is_refused_before_anything_is_written,
    closed_signup_refuses_strangers_but_not_admins,
    login_checks_the_password,
    login_attempts_are_rate_limited_per_account,
    refresh_rotates_and_reuse_revokes_the_family,
    logout_ends_the_session,
    access_tokens_verify_and_carry_the_caller,
    rotated_keys_keep_old_tokens_valid,
    api_tokens_authenticate_until_revoked,
    app_passwords_sign_subsonic_clients_in_until_revoked,
    app_passwords_are_sealed_at_rest,
    failed_subsonic_sign_ins_are_rate_limited,
    disabling_an_account_revokes_refresh_tokens_and_blocks_login,
);
