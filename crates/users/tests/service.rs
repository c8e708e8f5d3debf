//! The users service against both SQL backends.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use beatstream_core::{Caller, PageQuery, Timestamp, UserId, UserRole};
use beatstream_db::{backend_tests, Db};
use beatstream_events::auth::UserCreated;
use beatstream_events::outbox::{self, OutboxWaker};
use beatstream_events::Envelope;
use beatstream_users::model::{AccountPatch, ProfilePatch, StreamingQuality};
use beatstream_users::play_queue::PlayQueue;
use beatstream_users::{UsersError, UsersService, UsersStore, MIGRATIONS};

fn service(db: &Db) -> UsersService {
    UsersService::new(UsersStore::new(db.clone()), OutboxWaker::default())
}

async fn created(users: &UsersService, username: &str, role: UserRole) -> Caller {
    let user_id = UserId::generate();
    let event = Envelope::new(&UserCreated {
        user_id: user_id.clone(),
        username: username.into(),
        email: Some(format!("{username}@example.com")),
        display_name: None,
        role,
        created_at: Timestamp::now(),
    })
    .unwrap();
    users.apply_user_created(&event).await.unwrap();
    Caller {
        user_id,
        username: username.into(),
        role,
        scope: beatstream_core::Scope::Full,
    }
}

async fn user_created_event_makes_a_profile_once(db: Db) {
    let users = service(&db);
    let event = Envelope::new(&UserCreated {
        user_id: UserId("u1".into()),
        username: "kim".into(),
        email: None,
        display_name: Some("Kim".into()),
        role: UserRole::User,
        created_at: Timestamp::now(),
    })
    .unwrap();
    users.apply_user_created(&event).await.unwrap();
    users.apply_user_created(&event).await.unwrap();
    let caller = Caller {
        user_id: UserId("u1".into()),
        username: "kim".into(),
        role: UserRole::User,
        scope: beatstream_core::Scope::Full,
    };
    let me = users.me(&caller).await.unwrap();
    assert_eq!(me.display_name.as_deref(), Some("Kim"));
    assert_eq!(me.preferences.streaming_quality, StreamingQuality::High);
    let page = PageQuery::default().page().unwrap();
    assert_eq!(users.list(&page).await.unwrap().items.len(), 1);
}

async fn me_waits_briefly_then_says_not_found(db: Db) {
    let users = service(&db);
    let ghost = Caller {
        user_id: UserId("ghost".into()),
        username: "ghost".into(),
        role: UserRole::User,
        scope: beatstream_core::Scope::Full,
    };
    assert!(matches!(users.me(&ghost).await, Err(UsersError::NotFound)));
}

async fn patch_me_updates_profile_and_emits_preferences(db: Db) {
    let users = service(&db);
    let me = created(&users, "lee", UserRole::User).await;
    let patch = ProfilePatch {
        display_name: Some(Some("Lee".into())),
        favorite_genres: Some(vec!["Jazz".into(), "jazz".into(), "Rock".into()]),
        streaming_quality: Some(StreamingQuality::Lossless),
        ..Default::default()
    };
    let profile = users.update_me(&me, patch).await.unwrap();
    assert_eq!(profile.display_name.as_deref(), Some("Lee"));
    assert_eq!(profile.preferences.favorite_genres, vec!["Jazz", "Rock"]);
    assert_eq!(
        profile.preferences.streaming_quality,
        StreamingQuality::Lossless
    );
    assert_eq!(
        profile.email.as_deref(),
        Some("lee@example.com"),
        "untouched fields stay"
    );
    assert_eq!(
        outbox::pending_count(&db).await.unwrap(),
        1,
        "users.preferences.changed"
    );
    // Clearing the display name, no preference change: no event.
    let cleared = users
        .update_me(
            &me,
            ProfilePatch {
                display_name: Some(None),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(cleared.display_name, None);
    assert_eq!(outbox::pending_count(&db).await.unwrap(), 1);
}

async fn invalid_patch_changes_nothing(db: Db) {
    let users = service(&db);
    let me = created(&users, "max", UserRole::User).await;
    let patch = ProfilePatch {
        display_name: Some(Some("Max".into())),
        email: Some(Some("nope".into())),
        ..Default::default()
    };
    assert!(matches!(
        users.update_me(&me, patch).await,
        Err(UsersError::Invalid { .. })
    ));
    assert_eq!(users.me(&me).await.unwrap().display_name, None);
}

async fn admins_change_roles_but_never_remove_the_last_admin(db: Db) {
    let users = service(&db);
    let admin = created(&users, "root", UserRole::Admin).await;
    let user = created(&users, "nina", UserRole::User).await;
    let err = users
        .update_account(
            &admin.user_id,
            AccountPatch {
                disabled: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, UsersError::LastAdmin), "{err:?}");
    let err = users
        .update_account(
            &admin.user_id,
            AccountPatch {
                role: Some(UserRole::User),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, UsersError::LastAdmin), "{err:?}");
    assert_eq!(outbox::pending_count(&db).await.unwrap(), 0);

    let promoted = users
        .update_account(
            &user.user_id,
            AccountPatch {
                role: Some(UserRole::Admin),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(promoted.role, UserRole::Admin);
    let disabled = users
        .update_account(
            &admin.user_id,
            AccountPatch {
                disabled: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(disabled.disabled);
    assert_eq!(
        outbox::pending_count(&db).await.unwrap(),
        2,
        "users.account.changed twice"
    );
    assert!(matches!(
        users.public_profile(&admin.user_id).await,
        Err(UsersError::NotFound)
    ));
    assert!(matches!(
        users
            .update_account(&UserId("nobody".into()), AccountPatch::default())
            .await,
        Err(UsersError::NotFound)
    ));
}

async fn admin_list_pages_through_every_user(db: Db) {
    let users = service(&db);
    created(&users, "a0", UserRole::Admin).await;
    for i in 1..5 {
        created(&users, &format!("a{i}"), UserRole::User).await;
    }
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let query = PageQuery {
            limit: Some(2),
            cursor,
        };
        let page = users.list(&query.page().unwrap()).await.unwrap();
        seen.extend(page.items.iter().map(|p| p.username.clone()));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, vec!["a0", "a1", "a2", "a3", "a4"]);
}

async fn the_play_queue_is_saved_whole_and_read_back(db: Db) {
    let users = service(&db);
    let ann = created(&users, "ann", UserRole::User).await;
    let bob = created(&users, "bob", UserRole::User).await;
    let empty = users.play_queue(&ann).await.unwrap();
    assert_eq!(empty, PlayQueue::default(), "nothing saved yet");

    let queue = PlayQueue {
        track_ids: vec!["t1".into(), "t2".into(), "t1".into()],
        current_index: Some(1),
        position_ms: 61_500,
        changed_by: "DSub".into(),
        updated_at: None,
    };
    let saved = users.save_play_queue(&ann, queue.clone()).await.unwrap();
    assert!(saved.updated_at.is_some());
    let read = users.play_queue(&ann).await.unwrap();
    assert_eq!(
        (
            read.track_ids.clone(),
            read.current_index,
            read.position_ms,
            read.changed_by.as_str()
        ),
        (queue.track_ids.clone(), Some(1), 61_500, "DSub")
    );
    assert_eq!(
        users.play_queue(&bob).await.unwrap().track_ids.len(),
        0,
        "each user has their own"
    );

    // Bad input changes nothing.
    for bad in [
        PlayQueue {
            current_index: Some(3),
            ..queue.clone()
        },
        PlayQueue {
            position_ms: -1,
            ..queue.clone()
        },
        PlayQueue {
            track_ids: vec![String::new()],
            current_index: None,
            ..queue.clone()
        },
        PlayQueue {
            track_ids: vec!["t".into(); 10_001],
            current_index: None,
            ..queue.clone()
        },
    ] {
        assert!(matches!(
            users.save_play_queue(&ann, bad).await,
            Err(UsersError::Invalid { .. })
        ));
    }
    assert_eq!(
        users.play_queue(&ann).await.unwrap().track_ids,
        queue.track_ids
    );

    // Saving again replaces it; an empty queue clears it.
    users
        .save_play_queue(
            &ann,
            PlayQueue {
                track_ids: vec!["t9".into()],
                current_index: Some(0),
                ..queue.clone()
            },
        )
        .await
        .unwrap();
    assert_eq!(users.play_queue(&ann).await.unwrap().track_ids, ["t9"]);
    users
        .save_play_queue(
            &ann,
            PlayQueue {
                track_ids: Vec::new(),
                current_index: None,
                position_ms: 0,
                ..queue
            },
        )
        .await
        .unwrap();
    assert!(users.play_queue(&ann).await.unwrap().track_ids.is_empty());
}

backend_tests!("users", &MIGRATIONS;
    the_play_queue_is_saved_whole_and_read_back,
    user_created_event_makes_a_profile_once,
    me_waits_briefly_then_says_not_found,
    patch_me_updates_profile_and_emits_preferences,
    invalid_patch_changes_nothing,
    admins_change_roles_but_never_remove_the_last_admin,
    admin_list_pages_through_every_user,
);
