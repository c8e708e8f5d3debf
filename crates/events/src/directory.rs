//! Asking the catalog about tracks a consuming service has not heard of by event yet: a track scanned
//! a moment ago (its event still on the way), or every track of a catalog that existed before
//! this service did. The caller holds a [`TrackDirectory`]; whether the catalog runs in this
//! process or elsewhere is the wiring's business.

use crate::catalog::TrackSummary;

#[async_trait::async_trait]
pub trait TrackDirectory: Send + Sync + 'static {
    /// The live tracks among `ids` (unknown or removed ones are left out), in any order.
    async fn tracks(&self, ids: &[String]) -> Result<Vec<TrackSummary>, String>;

    /// Up to `limit` live tracks in id order after `after` ("" for the first page).
    async fn page(&self, after: &str, limit: u32) -> Result<Vec<TrackSummary>, String>;
}

/// A directory that knows nothing: for a process without a catalog to ask (events still fill
/// the read model).
pub struct NoDirectory;

#[async_trait::async_trait]
impl TrackDirectory for NoDirectory {
    async fn tracks(&self, _ids: &[String]) -> Result<Vec<TrackSummary>, String> {
        Ok(Vec::new())
    }

    async fn page(&self, _after: &str, _limit: u32) -> Result<Vec<TrackSummary>, String> {
        Ok(Vec::new())
    }
}
