//! Likes of albums and artists, and ratings of tracks, albums and artists (what Subsonic apps
//! call starring and rating). Albums and artists are known from the tracks read model.

use beatstream_core::{Caller, Page, Paged, Timestamp};

use super::PlaylistsService;
use crate::error::{invalid, PlaylistsError};
use crate::model::{ItemLike, MarkKind, Rating};
use crate::store::MarksOf;

/// Catalog ids of albums and artists: letters, digits and dashes.
fn plausible_catalog_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 100 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

fn not_found(kind: MarkKind) -> PlaylistsError {
    PlaylistsError::NotFound(kind.as_str())
}

/// Ids asked about at once, at most.
pub const MAX_MARK_IDS: usize = 500;

impl PlaylistsService {
    /// What the caller liked and rated among `ids` (tracks, albums and artists).
    pub async fn marks_of(
        &self,
        caller: &Caller,
        ids: &[String],
    ) -> Result<MarksOf, PlaylistsError> {
        if ids.len() > MAX_MARK_IDS {
            return Err(invalid("ids", format!("at most {MAX_MARK_IDS} at once")));
        }
        Ok(self.store.marks_of(&caller.user_id, ids).await?)
    }

    /// The name of an album or artist some track has, or 404.
    async fn item_name(&self, kind: MarkKind, id: &str) -> Result<String, PlaylistsError> {
        let name = match kind {
            MarkKind::Track => return self.known_track_title(id).await,
            _ if !plausible_catalog_id(id) => None,
            MarkKind::Album => self.store.album_title(id).await?,
            MarkKind::Artist => self.store.artist_name(id).await?,
        };
        name.ok_or_else(|| not_found(kind))
    }

    /// Likes an album or artist (idempotent).
    pub async fn like_item(
        &self,
        caller: &Caller,
        kind: MarkKind,
        id: &str,
    ) -> Result<(), PlaylistsError> {
        if kind == MarkKind::Track {
            return self.like(caller, id).await;
        }
        let name = self.item_name(kind, id).await?;
        self.store
            .like_item(&caller.user_id, kind, id, &name, Timestamp::now())
            .await?;
        Ok(())
    }

    /// Unlikes an album or artist (idempotent).
    pub async fn unlike_item(
        &self,
        caller: &Caller,
        kind: MarkKind,
        id: &str,
    ) -> Result<(), PlaylistsError> {
        if kind == MarkKind::Track {
            return self.unlike(caller, id).await;
        }
        self.store.unlike_item(&caller.user_id, kind, id).await?;
        Ok(())
    }

    pub async fn item_likes(
        &self,
        caller: &Caller,
        kind: MarkKind,
        page: &Page,
    ) -> Result<Paged<ItemLike>, PlaylistsError> {
        let rows = self.store.item_likes(&caller.user_id, kind, page).await?;
        Ok(Paged::from_rows(rows, page, |like| {
            crate::store::cursor_key(like.liked_at, &like.id)
        }))
    }

    /// Rates a track, album or artist from 1 to 5; 0 clears the rating.
    pub async fn rate(
        &self,
        caller: &Caller,
        kind: MarkKind,
        id: &str,
        rating: i64,
    ) -> Result<(), PlaylistsError> {
        if !(0..=5).contains(&rating) {
            return Err(invalid("rating", "must be from 1 to 5, or 0 to clear it"));
        }
        // Clearing needs no check: a rating of something since removed can go too.
        if rating != 0 {
            self.item_name(kind, id).await?;
        }
        if rating == 0 {
            self.store.clear_rating(&caller.user_id, kind, id).await?;
        } else {
            self.store
                .set_rating(&caller.user_id, kind, id, rating, Timestamp::now())
                .await?;
        }
        Ok(())
    }

    pub async fn ratings(
        &self,
        caller: &Caller,
        kind: MarkKind,
    ) -> Result<Vec<Rating>, PlaylistsError> {
        Ok(self.store.ratings(&caller.user_id, kind).await?)
    }
}
