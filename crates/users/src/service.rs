//! The users service's use cases: profiles, preferences, and admin account management.

use std::time::Duration;

use beatstream_core::{Caller, Page, Paged, Timestamp, UserId};
use beatstream_events::auth::UserCreated;
use beatstream_events::outbox::{self, OutboxWaker};
use beatstream_events::users::{AccountChanged, PreferencesChanged};
use beatstream_events::{inbox, Envelope};

use crate::error::UsersError;
use crate::model::{AccountPatch, Preferences, Profile, ProfilePatch};
use crate::store::UsersStore;

pub const CONSUMER: &str = "users";
pub const MAX_FAVORITES: usize = 50;
pub const MAX_NAME_CHARS: usize = 100;

/// How long `GET /me` waits for a just-created account's profile to arrive by event.
const PROFILE_ARRIVAL_WAIT: Duration = Duration::from_secs(3);

#[derive(Clone)]
pub struct UsersService {
    store: UsersStore,
    waker: OutboxWaker,
}

fn invalid(field: &'static str, reason: impl Into<String>) -> UsersError {
    UsersError::Invalid {
        field,
        reason: reason.into(),
    }
}

fn clean_favorites(field: &'static str, values: Vec<String>) -> Result<Vec<String>, UsersError> {
    if values.len() > MAX_FAVORITES {
        return Err(invalid(field, format!("at most {MAX_FAVORITES} entries")));
    }
    let mut cleaned: Vec<String> = Vec::with_capacity(values.len());
    for value in values {
        let value = value.trim().to_string();
        if value.is_empty()
            || value.chars().count() > MAX_NAME_CHARS
            || value.chars().any(char::is_control)
        {
            return Err(invalid(
                field,
                format!("each entry must be 1 to {MAX_NAME_CHARS} characters"),
            ));
        }
        if !cleaned.iter().any(|c| c.eq_ignore_ascii_case(&value)) {
            cleaned.push(value);
        }
    }
    Ok(cleaned)
}

fn clean_display_name(name: Option<String>) -> Result<Option<String>, UsersError> {
    let Some(name) = name.map(|n| n.trim().to_string()).filter(|n| !n.is_empty()) else {
        return Ok(None);
    };
    if name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(invalid(
            "display_name",
            format!("must be at most {MAX_NAME_CHARS} characters"),
        ));
    }
    Ok(Some(name))
}

fn clean_email(email: Option<String>) -> Result<Option<String>, UsersError> {
    let Some(email) = email
        .map(|e| e.trim().to_string())
        .filter(|e| !e.is_empty())
    else {
        return Ok(None);
    };
    if !beatstream_core::validate::is_email(&email) {
        return Err(invalid("email", "is not an e-mail address"));
    }
    Ok(Some(email))
}

impl UsersService {
    pub fn new(store: UsersStore, waker: OutboxWaker) -> Self {
        UsersService { store, waker }
    }

    pub fn store(&self) -> &UsersStore {
        &self.store
    }

    /// Consumer of `auth.user.created`: creates the profile. Idempotent.
    pub async fn apply_user_created(&self, envelope: &Envelope) -> Result<(), UsersError> {
        let created: UserCreated = match envelope.decode() {
            Ok(created) => created,
            Err(e) => {
                // Retrying cannot fix it: log it loudly and move on (no dead-letter queue yet).
                tracing::error!(event_id = %envelope.id, error = %e, "skipping an undecodable event");
                return Ok(());
            }
        };
        let mut tx = self.store.db().begin_write().await?;
        if !inbox::first_delivery(&mut tx, CONSUMER, &envelope.id).await? {
            return Ok(());
        }
        let profile = Profile {
            user_id: created.user_id,
            username: created.username,
            display_name: created.display_name,
            email: created.email,
            role: created.role,
            disabled: false,
            preferences: Preferences::default(),
            created_at: created.created_at,
            updated_at: created.created_at,
        };
        UsersStore::insert_profile(&mut tx, &profile).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The caller's own profile. An account created a moment ago may not have its profile yet
    /// (it arrives by event): wait briefly rather than answer 404 for an account that exists.
    pub async fn me(&self, caller: &Caller) -> Result<Profile, UsersError> {
        let deadline = tokio::time::Instant::now() + PROFILE_ARRIVAL_WAIT;
        loop {
            if let Some(profile) = self.store.get(&caller.user_id).await? {
                return Ok(profile);
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(UsersError::NotFound);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub async fn update_me(
        &self,
        caller: &Caller,
        patch: ProfilePatch,
    ) -> Result<Profile, UsersError> {
        // Validate everything before touching anything.
        let display_name = patch.display_name.map(clean_display_name).transpose()?;
        let email = patch.email.map(clean_email).transpose()?;
        let genres = patch
            .favorite_genres
            .map(|g| clean_favorites("favorite_genres", g))
            .transpose()?;
        let artists = patch
            .favorite_artists
            .map(|a| clean_favorites("favorite_artists", a))
            .transpose()?;
        self.me(caller).await?;

        let mut tx = self.store.db().begin_write().await?;
        let mut profile = UsersStore::get_in(&mut tx, &caller.user_id)
            .await?
            .ok_or(UsersError::NotFound)?;
        let before = profile.preferences.clone();
        if let Some(name) = display_name {
            profile.display_name = name;
        }
        if let Some(email) = email {
            profile.email = email;
        }
        if let Some(genres) = genres {
            profile.preferences.favorite_genres = genres;
        }
        if let Some(artists) = artists {
            profile.preferences.favorite_artists = artists;
        }
        if let Some(quality) = patch.streaming_quality {
            profile.preferences.streaming_quality = quality;
        }
        profile.updated_at = Timestamp::now();
        UsersStore::update(&mut tx, &profile).await?;
        let preferences_changed = profile.preferences != before;
        if preferences_changed {
            outbox::append(
                &mut tx,
                &PreferencesChanged {
                    user_id: profile.user_id.clone(),
                    favorite_genres: profile.preferences.favorite_genres.clone(),
                    favorite_artists: profile.preferences.favorite_artists.clone(),
                    streaming_quality: profile.preferences.streaming_quality.as_str().to_string(),
                },
            )
            .await?;
        }
        tx.commit().await?;
        if preferences_changed {
            self.waker.wake();
        }
        Ok(profile)
    }

    /// Another user's public profile; disabled accounts are not shown.
    pub async fn public_profile(&self, user_id: &UserId) -> Result<Profile, UsersError> {
        match self.store.get(user_id).await? {
            Some(profile) if !profile.disabled => Ok(profile),
            _ => Err(UsersError::NotFound),
        }
    }

    pub async fn list(&self, page: &Page) -> Result<Paged<Profile>, UsersError> {
        let rows = self.store.list(page).await?;
        Ok(Paged::from_rows(rows, page, |p| p.user_id.to_string()))
    }

    /// An admin changes a user's role or disables the account. Refuses to leave the server
    /// without an active admin.
    pub async fn update_account(
        &self,
        user_id: &UserId,
        patch: AccountPatch,
    ) -> Result<Profile, UsersError> {
        // Serialized with other admin changes: two cannot each remove "the other" admin.
        let mut tx = self.store.db().begin_serialized("users.admins").await?;
        let mut profile = UsersStore::get_in(&mut tx, user_id)
            .await?
            .ok_or(UsersError::NotFound)?;
        let (role_before, disabled_before) = (profile.role, profile.disabled);
        if let Some(role) = patch.role {
            profile.role = role;
        }
        if let Some(disabled) = patch.disabled {
            profile.disabled = disabled;
        }
        if (profile.role, profile.disabled) == (role_before, disabled_before) {
            return Ok(profile);
        }
        profile.updated_at = Timestamp::now();
        UsersStore::update(&mut tx, &profile).await?;
        if UsersStore::count_active_admins(&mut tx).await? == 0 {
            return Err(UsersError::LastAdmin);
        }
        outbox::append(
            &mut tx,
            &AccountChanged {
                user_id: profile.user_id.clone(),
                role: profile.role,
                disabled: profile.disabled,
            },
        )
        .await?;
        tx.commit().await?;
        self.waker.wake();
        tracing::info!(user_id = %profile.user_id, role = profile.role.as_str(), disabled = profile.disabled, "account changed by an admin");
        Ok(profile)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn favorites_are_trimmed_and_deduplicated() {
        let cleaned =
            clean_favorites("g", vec![" Rock ".into(), "rock".into(), "Jazz".into()]).unwrap();
        assert_eq!(cleaned, vec!["Rock".to_string(), "Jazz".to_string()]);
    }

    #[test]
    fn too_many_or_empty_favorites_are_rejected() {
        assert!(clean_favorites("g", vec!["x".into(); 51]).is_err());
        assert!(clean_favorites("g", vec!["  ".into()]).is_err());
        assert!(clean_favorites("g", vec!["a".repeat(101)]).is_err());
    }

    #[test]
    fn email_must_look_like_one() {
        assert!(clean_email(Some("a@b.co".into())).is_ok());
        assert_eq!(clean_email(Some("".into())).unwrap(), None);
        for bad in ["nope", "a@b", "@b.co", "a b@c.de", "a@.com"] {
            assert!(clean_email(Some(bad.into())).is_err(), "{bad}");
        }
    }
}
