//! Appending tracks, batched. Adds to the end of playlists that arrive while an earlier change
//! holds the write turn (SQLite runs one write transaction at a time) wait in a queue; the next
//! transaction applies all of them, playlist by playlist in arrival order, each with its own
//! checks, version and event, as if they had run one by one. Under load this turns many small
//! transactions into one, which is what lets a busy playlist take thousands of adds a second.

use std::collections::HashMap;
use std::sync::Mutex;

use beatstream_core::{Caller, Timestamp, UserId};
use beatstream_events::outbox;
use beatstream_events::Envelope;
use tokio::sync::oneshot;

use super::playlists::{caller_ref, changed_event, TrackDelta, MAX_PLAYLIST_TRACKS};
use super::PlaylistsService;
use crate::error::PlaylistsError;
use crate::store::PlaylistsStore;

/// Appends waiting for the next transaction, in arrival order.
#[derive(Default)]
pub(crate) struct Appends {
    pending: Mutex<Vec<(String, Append)>>,
}

struct Append {
    caller: Caller,
    if_match: Option<i64>,
    track_ids: Vec<String>,
    duration_ms: i64,
    reply: oneshot::Sender<Result<i64, PlaylistsError>>,
}

type Reply = oneshot::Sender<Result<i64, PlaylistsError>>;

impl Appends {
    /// Queues an append; true if the queue was empty (its caller starts the transaction that
    /// applies the queue).
    fn push(&self, playlist_id: &str, append: Append) -> bool {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        pending.push((playlist_id.to_string(), append));
        pending.len() == 1
    }

    /// Everything queued, grouped by playlist (in arrival order within each).
    fn take(&self) -> Vec<(String, Vec<Append>)> {
        let taken = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|e| e.into_inner()));
        let mut groups: Vec<(String, Vec<Append>)> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        for (playlist_id, append) in taken {
            let at = *index.entry(playlist_id.clone()).or_insert_with(|| {
                groups.push((playlist_id, Vec::new()));
                groups.len() - 1
            });
            groups[at].1.push(append);
        }
        // Playlists are locked in id order, so that two batches (on PostgreSQL, which runs them
        // at once) never wait for each other's locks in a cycle.
        groups.sort_by(|a, b| a.0.cmp(&b.0));
        groups
    }
}

impl PlaylistsService {
    /// Appends `track_ids` (known, available, of total `duration_ms`) to the playlist. Returns
    /// the version this append made.
    pub(super) async fn append_tracks(
        &self,
        caller: &Caller,
        playlist_id: &str,
        if_match: Option<i64>,
        track_ids: Vec<String>,
        duration_ms: i64,
    ) -> Result<i64, PlaylistsError> {
        let (reply, answer) = oneshot::channel();
        let append = Append {
            caller: caller.clone(),
            if_match,
            track_ids,
            duration_ms,
            reply,
        };
        if self.appends.push(playlist_id, append) {
            // Its own task, so a client that goes away does not cancel the others' appends.
            let service = self.clone();
            tokio::spawn(async move { service.apply_appends().await });
        }
        answer
            .await
            .map_err(|_| PlaylistsError::Batch("the append was not applied".into()))?
    }

    /// Takes the write turn, then applies every append queued by then, in one transaction.
    async fn apply_appends(&self) {
        let tx = self.store.db().begin_write().await;
        let groups = self.appends.take();
        let mut tx = match tx {
            Ok(tx) => tx,
            Err(e) => {
                let replies = groups
                    .into_iter()
                    .flat_map(|(_, g)| g.into_iter().map(|a| a.reply));
                return fail_all(replies, &e);
            }
        };
        let mut replies: Vec<Reply> = Vec::new();
        let mut results: Vec<Result<i64, PlaylistsError>> = Vec::new();
        let mut groups = groups.into_iter();
        while let Some((playlist_id, batch)) = groups.next() {
            match self.apply_in(&mut tx, &playlist_id, batch).await {
                Ok((group_replies, group_results)) => {
                    replies.extend(group_replies);
                    results.extend(group_results);
                }
                Err((group_replies, e)) => {
                    // Nothing commits: every append of the batch gets the error.
                    let rest = groups.flat_map(|(_, g)| g.into_iter().map(|a| a.reply));
                    return fail_all(replies.into_iter().chain(group_replies).chain(rest), &e);
                }
            }
        }
        if results.iter().any(Result::is_ok) {
            if let Err(e) = tx.commit().await {
                // Appends refused on their own merits keep their answer.
                for (reply, result) in replies.into_iter().zip(results) {
                    let answer = match result {
                        Ok(_) => Err(PlaylistsError::Batch(e.to_string())),
                        refused => refused,
                    };
                    let _ = reply.send(answer);
                }
                return;
            }
            self.waker.wake();
        }
        for (reply, result) in replies.into_iter().zip(results) {
            let _ = reply.send(result);
        }
    }

    /// Checks and applies each append in order. On a storage error, nothing is committed and
    /// every append gets the error.
    #[allow(clippy::type_complexity)]
    async fn apply_in(
        &self,
        tx: &mut beatstream_db::WriteTx,
        playlist_id: &str,
        batch: Vec<Append>,
    ) -> Result<(Vec<Reply>, Vec<Result<i64, PlaylistsError>>), (Vec<Reply>, String)> {
        let mut replies = Vec::with_capacity(batch.len());
        let mut appends = Vec::with_capacity(batch.len());
        for append in batch {
            let Append {
                caller,
                if_match,
                track_ids,
                duration_ms,
                reply,
            } = append;
            replies.push(reply);
            appends.push((caller, if_match, track_ids, duration_ms));
        }
        macro_rules! storage {
            ($e:expr) => {
                match $e {
                    Ok(value) => value,
                    Err(e) => return Err((replies, e.to_string())),
                }
            };
        }
        storage!(PlaylistsStore::lock_playlist(tx, self.store.db().backend(), playlist_id).await);
        let Some(mut playlist) = storage!(PlaylistsStore::playlist(tx, playlist_id).await) else {
            let results = appends
                .iter()
                .map(|_| Err(PlaylistsError::NotFound("playlist")))
                .collect();
            return Ok((replies, results));
        };
        let now = Timestamp::now();
        let mut results = Vec::with_capacity(appends.len());
        let mut rows: Vec<(i64, String, UserId)> = Vec::new();
        let mut events: Vec<Envelope> = Vec::new();
        let mut collaborators = Vec::new();
        for (caller, if_match, track_ids, duration_ms) in appends {
            let user = &caller.user_id;
            if !playlist.can_view(user) {
                results.push(Err(PlaylistsError::NotFound("playlist")));
                continue;
            }
            if !playlist.can_edit_tracks(user) {
                results.push(Err(PlaylistsError::CannotEdit));
                continue;
            }
            if if_match.is_some_and(|expected| expected != playlist.version) {
                results.push(Err(PlaylistsError::VersionMismatch {
                    current: playlist.version,
                }));
                continue;
            }
            if playlist.track_count + track_ids.len() as i64 > MAX_PLAYLIST_TRACKS {
                results.push(Err(PlaylistsError::Conflict(
                    "playlist_full",
                    "a playlist holds at most 100,000 tracks",
                )));
                continue;
            }
            if user != &playlist.owner.id {
                collaborators.push(caller_ref(&caller));
            }
            for (i, track_id) in track_ids.iter().enumerate() {
                rows.push((
                    playlist.track_count + i as i64,
                    track_id.clone(),
                    user.clone(),
                ));
            }
            playlist.version += 1;
            playlist.track_count += track_ids.len() as i64;
            playlist.duration_ms += duration_ms;
            playlist.updated_at = now;
            let delta = TrackDelta {
                added: track_ids,
                removed: Vec::new(),
            };
            events.push(storage!(Envelope::new(&changed_event(
                &playlist, user, delta
            ))));
            results.push(Ok(playlist.version));
        }
        if rows.is_empty() {
            return Ok((replies, results));
        }
        for user in &collaborators {
            // A collaborator's name shows as `added_by`.
            storage!(PlaylistsStore::upsert_user(tx, user).await);
        }
        let borrowed: Vec<(i64, &str, &UserId)> = rows
            .iter()
            .map(|(position, track_id, user)| (*position, track_id.as_str(), user))
            .collect();
        storage!(PlaylistsStore::insert_entry_rows(tx, playlist_id, &borrowed, now).await);
        storage!(PlaylistsStore::update_playlist(tx, &playlist).await);
        storage!(outbox::append_all(tx, &events).await);
        Ok((replies, results))
    }
}

fn fail_all(replies: impl Iterator<Item = Reply>, error: &dyn std::fmt::Display) {
    for reply in replies {
        let _ = reply.send(Err(PlaylistsError::Batch(error.to_string())));
    }
}
