//! Group sessions ("listening together"): a shared queue that every member may add to, and one
//! playback that the owner leads. The playback is a position at a server time; each member's
//! player computes where it should be now and keeps within a fraction of a second of it.

use beatstream_core::{ApiError, Timestamp};
use serde::{Deserialize, Serialize};

/// The longest shared queue.
pub const MAX_SESSION_QUEUE: usize = 1000;
/// Tracks one request may add.
pub const MAX_ADD: usize = 100;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct QueueEntry {
    pub track_id: String,
    /// Who added it (user id).
    pub added_by: String,
}

/// The shared queue and playback, as stored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionState {
    pub queue: Vec<QueueEntry>,
    /// The current entry, `None` while the queue is empty.
    pub index: Option<usize>,
    /// Where playback was at `at` (Unix ms)...
    pub position_ms: i64,
    pub at: i64,
    /// ...and whether it has moved on since.
    pub playing: bool,
}

impl SessionState {
    /// Where playback is at `now`.
    pub fn position_at(&self, now: i64) -> i64 {
        if self.playing {
            self.position_ms + (now - self.at).max(0)
        } else {
            self.position_ms
        }
    }

    /// Adds tracks at the end; the first ones of an empty queue become current (paused).
    pub fn add(&mut self, track_ids: &[String], by: &str) -> Result<(), ApiError> {
        if track_ids.is_empty() || track_ids.len() > MAX_ADD {
            return Err(ApiError::invalid(
                "invalid_track_ids",
                format!("add 1 to {MAX_ADD} tracks at a time"),
            ));
        }
        if track_ids.iter().any(|id| id.is_empty() || id.len() > 100) {
            return Err(ApiError::invalid(
                "invalid_track_ids",
                "a track id is empty or too long",
            ));
        }
        if self.queue.len() + track_ids.len() > MAX_SESSION_QUEUE {
            return Err(ApiError::new(
                beatstream_core::ErrorCode::Conflict,
                "session_queue_full",
                format!("a session's queue holds at most {MAX_SESSION_QUEUE} tracks"),
            ));
        }
        self.queue.extend(track_ids.iter().map(|id| QueueEntry {
            track_id: id.clone(),
            added_by: by.to_string(),
        }));
        if self.index.is_none() {
            self.index = Some(0);
        }
        Ok(())
    }

    /// Applies the owner's action at `now`.
    pub fn apply(&mut self, action: &Playback, now: i64) -> Result<(), ApiError> {
        let position = self.position_at(now);
        let at_entry = |index: usize, state: &mut SessionState| {
            state.index = Some(index);
            state.position_ms = 0;
        };
        match action {
            Playback::Play => {
                if self.index.is_none() {
                    return Err(ApiError::new(
                        beatstream_core::ErrorCode::Conflict,
                        "session_queue_empty",
                        "add tracks to the session's queue first",
                    ));
                }
                self.position_ms = position;
                self.playing = true;
            }
            Playback::Pause => {
                self.position_ms = position;
                self.playing = false;
            }
            Playback::Seek { position_ms } => {
                if *position_ms < 0 {
                    return Err(ApiError::invalid(
                        "invalid_position",
                        "position_ms must be 0 or more",
                    ));
                }
                self.position_ms = *position_ms;
            }
            // A player at the end of a track asks to leave that entry: two of the owner's
            // devices asking at once move on once.
            Playback::Next {
                from_index: Some(from),
            } if self.index != Some(*from) => return Ok(()),
            Playback::Next { .. } => match self.index {
                Some(i) if i + 1 < self.queue.len() => at_entry(i + 1, self),
                Some(_) => {
                    // The end of the queue: stop there.
                    self.position_ms = position;
                    self.playing = false;
                }
                None => {}
            },
            Playback::Previous => {
                if let Some(i) = self.index {
                    at_entry(i.saturating_sub(1), self);
                }
            }
            Playback::Jump { index } => {
                if *index >= self.queue.len() {
                    return Err(ApiError::invalid(
                        "invalid_queue_index",
                        format!("the queue has {} tracks", self.queue.len()),
                    ));
                }
                at_entry(*index, self);
            }
        }
        self.at = now;
        Ok(())
    }
}

/// What the owner does with the shared playback
/// (`POST /api/v1/sessions/{id}/playback`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum Playback {
    Play,
    Pause,
    Seek {
        position_ms: i64,
    },
    /// The next entry; with `from_index`, only if that entry is still the current one (two of
    /// the owner's devices at the end of a track move on once).
    Next {
        #[serde(default)]
        from_index: Option<usize>,
    },
    Previous,
    /// Play entry `index` of the queue from its start.
    Jump {
        index: usize,
    },
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MemberView {
    pub id: String,
    pub username: String,
    pub joined_at: String,
}

/// A session as members see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SessionView {
    pub id: String,
    pub owner: MemberView,
    pub members: Vec<MemberView>,
    /// Joining takes this code: the invite link is `/join/<invite_code>` on the web player.
    pub invite_code: String,
    pub queue: Vec<QueueEntry>,
    pub queue_index: Option<usize>,
    /// Where playback is at `as_of`, moving on from there while `playing`.
    pub position_ms: i64,
    pub playing: bool,
    pub as_of: String,
    pub version: i64,
    pub created_at: String,
}

/// A stored session with its members.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: String,
    pub owner_id: String,
    pub invite_code: String,
    pub state: SessionState,
    pub version: i64,
    pub created_at: i64,
    pub members: Vec<(String, String, i64)>,
}

impl Session {
    pub fn is_member(&self, user_id: &str) -> bool {
        self.members.iter().any(|(id, _, _)| id == user_id)
    }

    pub fn view(&self) -> SessionView {
        let member = |(id, username, joined_at): &(String, String, i64)| MemberView {
            id: id.clone(),
            username: username.clone(),
            joined_at: Timestamp::from_millis(*joined_at).to_rfc3339(),
        };
        let owner = self
            .members
            .iter()
            .find(|(id, _, _)| *id == self.owner_id)
            .map(member)
            .unwrap_or(MemberView {
                id: self.owner_id.clone(),
                username: String::new(),
                joined_at: String::new(),
            });
        SessionView {
            id: self.id.clone(),
            owner,
            members: self.members.iter().map(member).collect(),
            invite_code: self.invite_code.clone(),
            queue: self.state.queue.clone(),
            queue_index: self.state.index,
            position_ms: self.state.position_ms,
            playing: self.state.playing,
            as_of: Timestamp::from_millis(self.state.at).to_rfc3339(),
            version: self.version,
            created_at: Timestamp::from_millis(self.created_at).to_rfc3339(),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("t{i}")).collect()
    }

    #[test]
    fn playback_moves_on_from_a_position_at_a_time() {
        let mut state = SessionState::default();
        assert_eq!(
            state.apply(&Playback::Play, 0).unwrap_err().code,
            "session_queue_empty"
        );
        state.add(&ids(3), "owner").unwrap();
        assert_eq!(state.index, Some(0));
        state.apply(&Playback::Play, 1_000).unwrap();
        assert_eq!(state.position_at(3_500), 2_500);
        state.apply(&Playback::Pause, 4_000).unwrap();
        assert_eq!((state.position_at(9_000), state.playing), (3_000, false));
        state
            .apply(
                &Playback::Seek {
                    position_ms: 60_000,
                },
                9_000,
            )
            .unwrap();
        state
            .apply(&Playback::Next { from_index: None }, 9_000)
            .unwrap();
        assert_eq!((state.index, state.position_ms), (Some(1), 0));
        // Asked twice from the same entry (two devices at its end): moves on once.
        state
            .apply(
                &Playback::Next {
                    from_index: Some(0),
                },
                9_000,
            )
            .unwrap();
        assert_eq!(state.index, Some(1));
        state.apply(&Playback::Jump { index: 2 }, 9_000).unwrap();
        state.apply(&Playback::Play, 9_000).unwrap();
        state
            .apply(&Playback::Next { from_index: None }, 10_000)
            .unwrap();
        assert_eq!(
            (state.index, state.playing),
            (Some(2), false),
            "stops at the end"
        );
        assert!(state.apply(&Playback::Jump { index: 3 }, 0).is_err());
        assert!(state.apply(&Playback::Seek { position_ms: -1 }, 0).is_err());
    }

    #[test]
    fn the_queue_is_bounded() {
        let mut state = SessionState::default();
        assert!(state.add(&[], "a").is_err());
        assert!(state.add(&ids(MAX_ADD + 1), "a").is_err());
        for _ in 0..(MAX_SESSION_QUEUE / MAX_ADD) {
            state.add(&ids(MAX_ADD), "a").unwrap();
        }
        assert_eq!(
            state.add(&ids(1), "a").unwrap_err().code,
            "session_queue_full"
        );
        assert_eq!(state.queue.len(), MAX_SESSION_QUEUE);
    }
}
