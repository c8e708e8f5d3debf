//! What a player reports about itself and what it can be told to do.

use beatstream_core::ApiError;
use serde::{Deserialize, Serialize};

/// The longest queue a device may report or be given.
pub const MAX_QUEUE: usize = 10_000;
const MAX_ID_LEN: usize = 100;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Repeat {
    #[default]
    Off,
    All,
    One,
}

fn full_volume() -> f64 {
    1.0
}

/// A device's playback state, as it reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlaybackState {
    /// The current track, or null when nothing is loaded.
    #[serde(default)]
    pub track_id: Option<String>,
    #[serde(default)]
    pub position_ms: i64,
    #[serde(default)]
    pub playing: bool,
    /// 0.0 to 1.0.
    #[serde(default = "full_volume")]
    pub volume: f64,
    /// The queue's track ids, in play order.
    #[serde(default)]
    pub queue: Vec<String>,
    /// The current track's place in `queue`.
    #[serde(default)]
    pub queue_index: Option<usize>,
    #[serde(default)]
    pub shuffle: bool,
    #[serde(default)]
    pub repeat: Repeat,
}

impl PlaybackState {
    pub fn validate(&self) -> Result<(), ApiError> {
        if self.position_ms < 0 {
            return Err(ApiError::invalid(
                "invalid_position",
                "position_ms must be 0 or more",
            ));
        }
        check_volume(self.volume)?;
        check_queue(&self.queue)?;
        if let Some(index) = self.queue_index {
            if index >= self.queue.len() {
                return Err(ApiError::invalid(
                    "invalid_queue_index",
                    format!(
                        "queue_index {index} is past the end of a {}-track queue",
                        self.queue.len()
                    ),
                ));
            }
        }
        if self
            .track_id
            .as_deref()
            .is_some_and(|id| id.len() > MAX_ID_LEN)
        {
            return Err(ApiError::invalid(
                "invalid_track_id",
                "track_id is too long",
            ));
        }
        Ok(())
    }

    /// Where playback is `elapsed_ms` after this state was reported.
    pub fn position_after(&self, elapsed_ms: i64) -> i64 {
        if self.playing {
            self.position_ms + elapsed_ms.max(0)
        } else {
            self.position_ms
        }
    }
}

fn check_volume(volume: f64) -> Result<(), ApiError> {
    if (0.0..=1.0).contains(&volume) {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "invalid_volume",
            "volume must be between 0.0 and 1.0",
        ))
    }
}

fn check_queue(queue: &[String]) -> Result<(), ApiError> {
    if queue.len() > MAX_QUEUE {
        return Err(ApiError::invalid(
            "queue_too_long",
            format!("a queue holds at most {MAX_QUEUE} tracks"),
        ));
    }
    if queue
        .iter()
        .any(|id| id.is_empty() || id.len() > MAX_ID_LEN)
    {
        return Err(ApiError::invalid(
            "invalid_track_id",
            "a queue entry is empty or too long",
        ));
    }
    Ok(())
}

/// What one device tells another to do (`POST /api/v1/me/devices/{id}/commands`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum Command {
    Play,
    Pause,
    Seek {
        position_ms: i64,
    },
    Next,
    Previous,
    Volume {
        volume: f64,
    },
    /// Replace the queue and play `index` from `position_ms`.
    SetQueue {
        track_ids: Vec<String>,
        #[serde(default)]
        index: usize,
        #[serde(default)]
        position_ms: i64,
    },
    /// Add tracks after the current one.
    AddToQueue {
        track_ids: Vec<String>,
    },
}

impl Command {
    pub fn validate(&self) -> Result<(), ApiError> {
        match self {
            Command::Seek { position_ms } if *position_ms < 0 => Err(ApiError::invalid(
                "invalid_position",
                "position_ms must be 0 or more",
            )),
            Command::Volume { volume } => check_volume(*volume),
            Command::SetQueue {
                track_ids,
                index,
                position_ms,
            } => {
                check_queue(track_ids)?;
                if track_ids.is_empty() || *index >= track_ids.len() {
                    return Err(ApiError::invalid(
                        "invalid_queue_index",
                        "index must point into a non-empty track_ids",
                    ));
                }
                if *position_ms < 0 {
                    return Err(ApiError::invalid(
                        "invalid_position",
                        "position_ms must be 0 or more",
                    ));
                }
                Ok(())
            }
            Command::AddToQueue { track_ids } => {
                check_queue(track_ids)?;
                if track_ids.is_empty() {
                    return Err(ApiError::invalid("empty_queue", "track_ids is empty"));
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn commands_parse_from_their_action_and_reject_strangers() {
        let pause: Command = serde_json::from_str(r#"{"action":"pause"}"#).unwrap();
        assert_eq!(pause, Command::Pause);
        let seek: Command =
            serde_json::from_str(r#"{"action":"seek","position_ms":5000}"#).unwrap();
        assert_eq!(seek, Command::Seek { position_ms: 5000 });
        assert!(serde_json::from_str::<Command>(r#"{"action":"explode"}"#).is_err());
        assert!(serde_json::from_str::<Command>(r#"{"action":"seek"}"#).is_err());
        assert!(
            serde_json::from_str::<Command>(r#"{"action":"seek","position_ms":1,"x":1}"#).is_err()
        );
        let bad = Command::Volume { volume: 1.5 };
        assert_eq!(bad.validate().unwrap_err().code, "invalid_volume");
    }

    #[test]
    fn states_are_checked_and_extrapolated() {
        let mut state: PlaybackState =
            serde_json::from_str(r#"{"track_id":"t1","position_ms":1000,"playing":true}"#).unwrap();
        assert_eq!(state.volume, 1.0);
        assert_eq!(state.position_after(250), 1250);
        state.playing = false;
        assert_eq!(state.position_after(250), 1000);
        state.queue = vec!["t1".into()];
        state.queue_index = Some(1);
        assert_eq!(state.validate().unwrap_err().code, "invalid_queue_index");
        assert!(serde_json::from_str::<PlaybackState>(r#"{"bogus":1}"#).is_err());
    }
}
