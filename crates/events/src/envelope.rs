//! What travels on the bus: an envelope with a unique id (consumers deduplicate on it), the
//! topic, the payload's schema version and the payload as JSON. The payload stays JSON text
//! from the moment it is written until a consumer decodes it: the outbox, the relay and the
//! buses pass it along without building a tree of it.

use beatstream_core::Timestamp;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// An event payload type: a plain serde struct with its topic and schema version.
/// A breaking change to a payload bumps `VERSION`; consumers check it in [`Envelope::decode`].
pub trait Event: Serialize + DeserializeOwned {
    const TOPIC: &'static str;
    const VERSION: u32;
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Envelope {
    pub id: String,
    pub topic: String,
    pub version: u32,
    pub occurred_at: Timestamp,
    pub payload: Box<RawValue>,
}

impl PartialEq for Envelope {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
            && self.topic == other.topic
            && self.version == other.version
            && self.occurred_at == other.occurred_at
            && self.payload.get() == other.payload.get()
    }
}

impl Envelope {
    pub fn new<E: Event>(event: &E) -> Result<Self, serde_json::Error> {
        Ok(Envelope {
            id: uuid::Uuid::now_v7().to_string(),
            topic: E::TOPIC.to_string(),
            version: E::VERSION,
            occurred_at: Timestamp::now(),
            payload: serde_json::value::to_raw_value(event)?,
        })
    }

    /// The typed payload, or an error when the topic or version is not the one `E` reads.
    pub fn decode<E: Event>(&self) -> Result<E, DecodeError> {
        if self.topic != E::TOPIC {
            return Err(DecodeError::Topic {
                expected: E::TOPIC,
                got: self.topic.clone(),
            });
        }
        if self.version != E::VERSION {
            return Err(DecodeError::Version {
                topic: E::TOPIC,
                expected: E::VERSION,
                got: self.version,
            });
        }
        serde_json::from_str(self.payload.get()).map_err(DecodeError::Payload)
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        // Serializing a struct of strings, numbers and a JSON value cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("expected topic {expected}, got {got}")]
    Topic { expected: &'static str, got: String },
    #[error("{topic}: this consumer reads version {expected}, the event is version {got}")]
    Version {
        topic: &'static str,
        expected: u32,
        got: u32,
    },
    #[error("payload does not match its schema: {0}")]
    Payload(serde_json::Error),
}
