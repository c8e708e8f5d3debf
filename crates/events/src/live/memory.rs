//! The live channel inside one process: a broadcast channel.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::broadcast;

use super::{Audience, LiveBus, LiveFeed, LiveMessage};
use crate::BusError;

/// How many messages a slow reader may fall behind before it loses some.
const CAPACITY: usize = 16 * 1024;

pub struct MemoryLive {
    /// Held while numbering and sending, so sequence order is send order.
    sequence: Mutex<u64>,
    sender: broadcast::Sender<LiveMessage>,
    epoch: String,
}

impl MemoryLive {
    pub fn new() -> Self {
        MemoryLive {
            sequence: Mutex::new(0),
            sender: broadcast::channel(CAPACITY).0,
            epoch: uuid::Uuid::new_v4().simple().to_string()[..8].to_string(),
        }
    }
}

impl Default for MemoryLive {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait::async_trait]
impl LiveBus for MemoryLive {
    async fn publish(
        &self,
        audience: &Audience,
        device_id: Option<&str>,
        payload: &str,
    ) -> Result<u64, BusError> {
        let mut sequence = self
            .sequence
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *sequence += 1;
        // No subscriber is not an error: nobody is listening.
        let _ = self.sender.send(LiveMessage {
            seq: *sequence,
            audience: audience.clone(),
            device_id: device_id.map(str::to_string),
            payload: Arc::from(payload),
            backlog: false,
        });
        Ok(*sequence)
    }

    async fn subscribe(&self, _since: Duration) -> Result<Box<dyn LiveFeed>, BusError> {
        Ok(Box::new(MemoryFeed {
            receiver: self.sender.subscribe(),
        }))
    }

    fn epoch(&self) -> &str {
        &self.epoch
    }
}

struct MemoryFeed {
    receiver: broadcast::Receiver<LiveMessage>,
}

#[async_trait::async_trait]
impl LiveFeed for MemoryFeed {
    async fn next(&mut self) -> Option<Result<LiveMessage, BusError>> {
        match self.receiver.recv().await {
            Ok(message) => Some(Ok(message)),
            Err(broadcast::error::RecvError::Lagged(lost)) => Some(Err(BusError::Receive(
                format!("the live feed fell behind and lost {lost} messages"),
            ))),
            Err(broadcast::error::RecvError::Closed) => None,
        }
    }
}
