//! The listener's library: likes and plays.

use beatstream_core::{Caller, Page, Paged, Timestamp};
use beatstream_events::library::{TrackLiked, TrackPlayed};
use beatstream_events::outbox;

use super::PlaylistsService;
use crate::error::{invalid, PlaylistsError};
use crate::model::{Like, Play, PlayReport, TrackInfo};
use crate::store::{HistoryFilter, PlaylistsStore};

/// A play report longer than a day is a client bug.
pub const MAX_PLAYED_MS: i64 = 24 * 60 * 60 * 1000;

/// Whether `played_ms` of a track of `duration_ms` counts as a play, as scrobblers count:
/// at least half the track or four minutes, and at least 30 s unless the track is shorter.
/// Anything less is a skip.
pub fn counts_as_play(played_ms: i64, duration_ms: i64) -> bool {
    let wanted = if duration_ms > 0 {
        (duration_ms / 2).clamp(30_000, 240_000).min(duration_ms)
    } else {
        30_000
    };
    played_ms >= wanted
}

impl PlaylistsService {
    /// A track anyone may like or play: known to the catalog, even if since removed.
    async fn known_track(&self, track_id: &str) -> Result<TrackInfo, PlaylistsError> {
        if !super::plausible_id(track_id) {
            return Err(PlaylistsError::NotFound("track"));
        }
        let mut found = self.resolve_tracks(&[track_id.to_string()]).await?;
        found
            .remove(track_id)
            .ok_or(PlaylistsError::NotFound("track"))
    }

    /// A known track's title, or 404.
    pub(super) async fn known_track_title(&self, track_id: &str) -> Result<String, PlaylistsError> {
        Ok(self.known_track(track_id).await?.title)
    }

    /// Likes a track (idempotent).
    pub async fn like(&self, caller: &Caller, track_id: &str) -> Result<(), PlaylistsError> {
        self.known_track(track_id).await?;
        let now = Timestamp::now();
        let mut tx = self.store.db().begin_write().await?;
        if PlaylistsStore::like(&mut tx, &caller.user_id, track_id, now).await? {
            outbox::append(
                &mut tx,
                &TrackLiked {
                    user_id: caller.user_id.clone(),
                    track_id: track_id.to_string(),
                    liked: true,
                    at: now,
                },
            )
            .await?;
        }
        tx.commit().await?;
        self.waker.wake();
        Ok(())
    }

    /// Unlikes a track (idempotent; unliking a track that was never liked is fine).
    pub async fn unlike(&self, caller: &Caller, track_id: &str) -> Result<(), PlaylistsError> {
        let mut tx = self.store.db().begin_write().await?;
        if PlaylistsStore::unlike(&mut tx, &caller.user_id, track_id).await? {
            outbox::append(
                &mut tx,
                &TrackLiked {
                    user_id: caller.user_id.clone(),
                    track_id: track_id.to_string(),
                    liked: false,
                    at: Timestamp::now(),
                },
            )
            .await?;
        }
        tx.commit().await?;
        self.waker.wake();
        Ok(())
    }

    pub async fn likes(&self, caller: &Caller, page: &Page) -> Result<Paged<Like>, PlaylistsError> {
        let rows = self.store.likes(&caller.user_id, page).await?;
        Ok(Paged::from_rows(rows, page, |like| {
            crate::store::cursor_key(like.liked_at, &like.track.id)
        }))
    }

    /// Records a play (or a skip) and publishes it.
    pub async fn record_play(
        &self,
        caller: &Caller,
        report: PlayReport,
    ) -> Result<Play, PlaylistsError> {
        if report.played_ms < 0 {
            return Err(invalid("played_ms", "must not be negative"));
        }
        if report.played_ms > MAX_PLAYED_MS {
            return Err(invalid("played_ms", "must be at most a day"));
        }
        let now = Timestamp::now();
        if report
            .started_at
            .is_some_and(|at| at.millis() > now.millis() + 5 * 60 * 1000)
        {
            return Err(invalid("started_at", "is in the future"));
        }
        let track = self.known_track(&report.track_id).await?;
        let played_at = report
            .started_at
            .unwrap_or_else(|| Timestamp::from_millis(now.millis() - report.played_ms));
        let play = Play {
            id: uuid::Uuid::now_v7().to_string(),
            skipped: !counts_as_play(report.played_ms, track.duration_ms),
            track,
            played_ms: report.played_ms,
            played_at,
        };
        let mut tx = self.store.db().begin_write().await?;
        PlaylistsStore::insert_play(&mut tx, &caller.user_id, &play).await?;
        outbox::append(
            &mut tx,
            &TrackPlayed {
                play_id: play.id.clone(),
                user_id: caller.user_id.clone(),
                track_id: play.track.id.clone(),
                played_ms: play.played_ms,
                played_at: play.played_at,
                skipped: play.skipped,
            },
        )
        .await?;
        tx.commit().await?;
        self.waker.wake();
        Ok(play)
    }

    pub async fn history(
        &self,
        caller: &Caller,
        filter: HistoryFilter,
        page: &Page,
    ) -> Result<Paged<Play>, PlaylistsError> {
        let rows = self.store.history(&caller.user_id, filter, page).await?;
        Ok(Paged::from_rows(rows, page, |play| {
            crate::store::cursor_key(play.played_at, &play.id)
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::counts_as_play;

    #[test]
    fn scrobbler_rule() {
        // A 3-minute track counts from 90 s.
        assert!(!counts_as_play(89_000, 180_000));
        assert!(counts_as_play(90_000, 180_000));
        // A 20-minute track counts from 4 minutes.
        assert!(counts_as_play(240_000, 1_200_000));
        assert!(!counts_as_play(239_000, 1_200_000));
        // A 40-second track needs 30 s; a 20-second one needs all of it.
        assert!(!counts_as_play(25_000, 40_000));
        assert!(counts_as_play(30_000, 40_000));
        assert!(counts_as_play(20_000, 20_000));
        // Unknown duration: 30 s.
        assert!(counts_as_play(30_000, 0));
    }
}
