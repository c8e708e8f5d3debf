//! The catalog's copy of listeners' streaming quality, from events, on both SQL backends.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use beatstream_catalog::preferences::bitrate_for;
use beatstream_catalog::{CatalogStore, MIGRATIONS};
use beatstream_core::UserId;
use beatstream_db::{backend_tests, Db};
use beatstream_events::users::PreferencesChanged;
use beatstream_events::Envelope;

fn changed(user: &str, quality: &str) -> Envelope {
    Envelope::new(&PreferencesChanged {
        user_id: UserId(user.into()),
        favorite_genres: vec![],
        favorite_artists: vec![],
        streaming_quality: quality.into(),
    })
    .unwrap()
}

async fn quality_follows_the_latest_event_and_redeliveries_change_nothing(db: Db) {
    let store = CatalogStore::new(db);
    assert_eq!(store.streaming_quality("u1").await.unwrap(), None);
    let low = changed("u1", "low");
    store.apply_preferences_changed(&low).await.unwrap();
    assert_eq!(
        store.streaming_quality("u1").await.unwrap().as_deref(),
        Some("low")
    );
    store
        .apply_preferences_changed(&changed("u1", "lossless"))
        .await
        .unwrap();
    store.apply_preferences_changed(&low).await.unwrap(); // a redelivery of the older event
    assert_eq!(
        store.streaming_quality("u1").await.unwrap().as_deref(),
        Some("lossless")
    );
    assert_eq!(store.streaming_quality("u2").await.unwrap(), None);
}

#[test]
fn qualities_map_to_bitrates() {
    assert_eq!(bitrate_for("low"), Some(96));
    assert_eq!(bitrate_for("normal"), Some(160));
    assert_eq!(bitrate_for("high"), Some(256));
    assert_eq!(bitrate_for("lossless"), None);
}

backend_tests!("catalog", &MIGRATIONS;
    quality_follows_the_latest_event_and_redeliveries_change_nothing,
);
