//! Likes of albums and artists, and ratings.

use beatstream_core::{Page, Timestamp, UserId};
use sqlx::Row;

use super::library::split_cursor;
use super::{millis, PlaylistsStore};
use crate::model::{ItemLike, MarkKind, Rating};

/// A user's marks on some ids: when each was liked, and its rating.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct MarksOf {
    pub liked: std::collections::HashMap<String, Timestamp>,
    pub ratings: std::collections::HashMap<String, i64>,
}

impl PlaylistsStore {
    /// What `user` liked and rated among `ids` (tracks, albums and artists alike: ids never
    /// collide across kinds).
    pub async fn marks_of(&self, user: &UserId, ids: &[String]) -> Result<MarksOf, sqlx::Error> {
        let mut out = MarksOf::default();
        for chunk in ids.chunks(500) {
            // One statement: the same id parameters serve its three parts.
            let list = beatstream_db::placeholders(2, chunk.len());
            let sql = format!(
                "SELECT track_id AS id, liked_at AS at, 0 AS rating FROM likes \
                 WHERE user_id = $1 AND track_id IN ({list}) \
                 UNION ALL SELECT item_id, liked_at, 0 FROM item_likes \
                 WHERE user_id = $1 AND item_id IN ({list}) \
                 UNION ALL SELECT item_id, 0, rating FROM ratings \
                 WHERE user_id = $1 AND item_id IN ({list})"
            );
            let mut query = sqlx::query(&sql).bind(user.as_str());
            for id in chunk {
                query = query.bind(id);
            }
            for row in query.fetch_all(self.db.pool()).await? {
                let id: String = row.try_get("id")?;
                let rating: i64 = row.try_get("rating")?;
                if rating > 0 {
                    out.ratings.insert(id, rating);
                } else {
                    out.liked.insert(id, millis(&row, "at")?);
                }
            }
        }
        Ok(out)
    }

    /// An album's title, from the tracks read model; `None` when no track has that album.
    pub async fn album_title(&self, album_id: &str) -> Result<Option<String>, sqlx::Error> {
        let row = sqlx::query("SELECT album_title FROM tracks WHERE album_id = $1 LIMIT 1")
            .bind(album_id)
            .fetch_optional(self.db.pool())
            .await?;
        row.map(|r| r.try_get("album_title")).transpose()
    }

    /// An artist's name, from the tracks read model (`artist_id` holds no `%` or `_`).
    pub async fn artist_name(&self, artist_id: &str) -> Result<Option<String>, sqlx::Error> {
        let rows = sqlx::query("SELECT artists FROM tracks WHERE artists LIKE $1 LIMIT 5")
            .bind(format!("%\"id\":\"{artist_id}\"%"))
            .fetch_all(self.db.pool())
            .await?;
        for row in rows {
            let artists: String = row.try_get("artists")?;
            let list: Vec<serde_json::Value> = serde_json::from_str(&artists).unwrap_or_default();
            if let Some(found) = list.iter().find(|a| a["id"] == artist_id) {
                return Ok(found["name"].as_str().map(str::to_string));
            }
        }
        Ok(None)
    }

    /// Likes an album or artist; false if it was liked already.
    pub async fn like_item(
        &self,
        user: &UserId,
        kind: MarkKind,
        id: &str,
        name: &str,
        at: Timestamp,
    ) -> Result<bool, sqlx::Error> {
        let result = self.db.execute_write(sqlx::query(
            "INSERT INTO item_likes (user_id, kind, item_id, name, liked_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT DO NOTHING",
        )
        .bind(user.as_str())
        .bind(kind.as_str())
        .bind(id)
        .bind(name)
        .bind(at.millis())
        )
        .await?;
        Ok(result.rows_affected() == 1)
    }

    pub async fn unlike_item(
        &self,
        user: &UserId,
        kind: MarkKind,
        id: &str,
    ) -> Result<bool, sqlx::Error> {
        let result = self
            .db
            .execute_write(
                sqlx::query(
                    "DELETE FROM item_likes WHERE user_id = $1 AND kind = $2 AND item_id = $3",
                )
                .bind(user.as_str())
                .bind(kind.as_str())
                .bind(id),
            )
            .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Liked albums or artists, newest first, `limit + 1` of them.
    pub async fn item_likes(
        &self,
        user: &UserId,
        kind: MarkKind,
        page: &Page,
    ) -> Result<Vec<ItemLike>, sqlx::Error> {
        let (before_at, before_id) = split_cursor(&page.after);
        let rows = sqlx::query(
            "SELECT item_id, name, liked_at FROM item_likes WHERE user_id = $1 AND kind = $2 \
             AND (liked_at < $3 OR (liked_at = $3 AND item_id < $4)) \
             ORDER BY liked_at DESC, item_id DESC LIMIT $5",
        )
        .bind(user.as_str())
        .bind(kind.as_str())
        .bind(before_at)
        .bind(before_id)
        .bind(i64::from(page.limit) + 1)
        .fetch_all(self.db.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ItemLike {
                    id: row.try_get("item_id")?,
                    name: row.try_get("name")?,
                    liked_at: millis(row, "liked_at")?,
                })
            })
            .collect()
    }

    pub async fn set_rating(
        &self,
        user: &UserId,
        kind: MarkKind,
        id: &str,
        rating: i64,
        at: Timestamp,
    ) -> Result<(), sqlx::Error> {
        self.db.execute_write(sqlx::query(
            "INSERT INTO ratings (user_id, kind, item_id, rating, rated_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (user_id, kind, item_id) DO UPDATE SET rating = excluded.rating, rated_at = excluded.rated_at",
        )
        .bind(user.as_str())
        .bind(kind.as_str())
        .bind(id)
        .bind(rating)
        .bind(at.millis())
        )
        .await?;
        Ok(())
    }

    pub async fn clear_rating(
        &self,
        user: &UserId,
        kind: MarkKind,
        id: &str,
    ) -> Result<(), sqlx::Error> {
        self.db
            .execute_write(
                sqlx::query(
                    "DELETE FROM ratings WHERE user_id = $1 AND kind = $2 AND item_id = $3",
                )
                .bind(user.as_str())
                .bind(kind.as_str())
                .bind(id),
            )
            .await?;
        Ok(())
    }

    /// A user's ratings of one kind, highest first (at most 10,000).
    pub async fn ratings(&self, user: &UserId, kind: MarkKind) -> Result<Vec<Rating>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT item_id, rating, rated_at FROM ratings WHERE user_id = $1 AND kind = $2 \
             ORDER BY rating DESC, rated_at DESC, item_id LIMIT 10000",
        )
        .bind(user.as_str())
        .bind(kind.as_str())
        .fetch_all(self.db.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Rating {
                    kind,
                    id: row.try_get("item_id")?,
                    rating: row.try_get("rating")?,
                    rated_at: millis(row, "rated_at")?,
                })
            })
            .collect()
    }
}
