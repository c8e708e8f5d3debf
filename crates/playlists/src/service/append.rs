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
use crate::model::Playlist;
use crate::store::PlaylistsStore;

/// Appends waiting for the next transaction, in arrival order.
#[derive(Default)]
pub(crate) struct Appends {
    pending: Mutex<Vec<(String, Append)>>,
}

struct Append {
    request: Request,
    reply: Reply,
}

type Reply = oneshot::Sender<Result<i64, PlaylistsError>>;

/// What an append asks for.
struct Request {
    caller: Caller,
    if_match: Option<i64>,
    track_ids: Vec<String>,
    duration_ms: i64,
}

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
            request: Request {
                caller: caller.clone(),
                if_match,
                track_ids,
                duration_ms,
            },
            reply,
        };
        if self.appends.push(playlist_id, append) {
            // Its own task, so a client that goes away does not cancel the others' appends, on
            // the thread for write turns (see `beatstream_core::runtimes`).
            let service = self.clone();
            beatstream_core::runtimes::spawn_write_turn(
                async move { service.apply_appends().await },
            );
        }
        answer
            .await
            .map_err(|_| PlaylistsError::Batch("the append was not applied".into()))?
    }

    /// Takes the write turn, then applies every append queued by then, in one transaction.
    async fn apply_appends(&self) {
        let tx = self.store.db().begin_write().await;
        let mut replies: Vec<Reply> = Vec::new();
        let mut groups: Vec<(String, Vec<Request>)> = Vec::new();
        for (playlist_id, batch) in self.appends.take() {
            let requests = batch
                .into_iter()
                .map(|append| {
                    replies.push(append.reply);
                    append.request
                })
                .collect();
            groups.push((playlist_id, requests));
        }
        let mut tx = match tx {
            Ok(tx) => tx,
            Err(e) => return fail_all(replies, &e),
        };
        let results = match self.apply_in(&mut tx, groups).await {
            Ok(results) => results,
            // Nothing commits: every append of the batch gets the error.
            Err(e) => return fail_all(replies, &e),
        };
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

    /// Checks and applies each append in order, playlist by playlist (`groups` in id order),
    /// with a few statements for the whole batch. The results come in the order of the
    /// appends. On a storage error, nothing must be committed.
    async fn apply_in(
        &self,
        tx: &mut beatstream_db::WriteTx,
        groups: Vec<(String, Vec<Request>)>,
    ) -> Result<Vec<Result<i64, PlaylistsError>>, Box<dyn std::error::Error + Send + Sync>> {
        let ids: Vec<String> = groups.iter().map(|(id, _)| id.clone()).collect();
        PlaylistsStore::lock_playlists(tx, self.store.db().backend(), &ids).await?;
        let mut playlists = PlaylistsStore::playlists_by_id(tx, &ids).await?;
        let now = Timestamp::now();
        let mut results = Vec::new();
        let mut rows: Vec<(&str, i64, String, UserId)> = Vec::new();
        let mut events: Vec<Envelope> = Vec::new();
        let mut collaborators = Vec::new();
        for (playlist_id, requests) in &groups {
            let Some(playlist) = playlists.get_mut(playlist_id) else {
                results.extend(
                    requests
                        .iter()
                        .map(|_| Err(PlaylistsError::NotFound("playlist"))),
                );
                continue;
            };
            let mut appended = false;
            for request in requests {
                if let Err(refused) = check(playlist, request) {
                    results.push(Err(refused));
                    continue;
                }
                let user = &request.caller.user_id;
                if user != &playlist.owner.id {
                    collaborators.push(caller_ref(&request.caller));
                }
                for (i, track_id) in request.track_ids.iter().enumerate() {
                    rows.push((
                        playlist_id,
                        playlist.track_count + i as i64,
                        track_id.clone(),
                        user.clone(),
                    ));
                }
                playlist.version += 1;
                playlist.track_count += request.track_ids.len() as i64;
                playlist.duration_ms += request.duration_ms;
                playlist.updated_at = now;
                let delta = TrackDelta {
                    added: request.track_ids.clone(),
                    removed: Vec::new(),
                };
                events.push(Envelope::new(&changed_event(playlist, user, delta))?);
                results.push(Ok(playlist.version));
                appended = true;
            }
            if !appended {
                playlists.remove(playlist_id);
            }
        }
        if rows.is_empty() {
            return Ok(results);
        }
        for user in &collaborators {
            // A collaborator's name shows as `added_by`.
            PlaylistsStore::upsert_user(tx, user).await?;
        }
        let borrowed: Vec<(&str, i64, &str, &UserId)> = rows
            .iter()
            .map(|(playlist_id, position, track_id, user)| {
                (*playlist_id, *position, track_id.as_str(), user)
            })
            .collect();
        PlaylistsStore::insert_entries_of(tx, &borrowed, now).await?;
        let changed: Vec<&Playlist> = playlists.values().collect();
        PlaylistsStore::update_playlist_counts(tx, &changed).await?;
        outbox::append_all(tx, &events).await?;
        Ok(results)
    }
}

/// An append's own checks, against the playlist as the appends before it in the batch left it.
fn check(playlist: &Playlist, request: &Request) -> Result<(), PlaylistsError> {
    let user = &request.caller.user_id;
    if !playlist.can_view(user) {
        return Err(PlaylistsError::NotFound("playlist"));
    }
    if !playlist.can_edit_tracks(user) {
        return Err(PlaylistsError::CannotEdit);
    }
    if request
        .if_match
        .is_some_and(|expected| expected != playlist.version)
    {
        return Err(PlaylistsError::VersionMismatch {
            current: playlist.version,
        });
    }
    if playlist.track_count + request.track_ids.len() as i64 > MAX_PLAYLIST_TRACKS {
        return Err(PlaylistsError::Conflict(
            "playlist_full",
            "a playlist holds at most 100,000 tracks",
        ));
    }
    Ok(())
}

fn fail_all(replies: Vec<Reply>, error: &dyn std::fmt::Display) {
    for reply in replies {
        let _ = reply.send(Err(PlaylistsError::Batch(error.to_string())));
    }
}
