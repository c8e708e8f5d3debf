//! Group sessions' use cases. Every change is sent to every member's sockets as
//! `session.changed` (the whole session); the end as `session.ended`.

use beatstream_core::{ApiError, Caller, ErrorCode, Timestamp};
use beatstream_events::live::Audience;
use serde_json::json;

use crate::service::RealtimeService;
use crate::session::{Playback, Session, SessionState, SessionView};
use crate::RealtimeError;

fn session_not_found() -> RealtimeError {
    ApiError::not_found("session_not_found", "no such session of yours").into()
}

fn owner_only(what: &str) -> RealtimeError {
    ApiError::new(
        ErrorCode::Forbidden,
        "not_session_owner",
        format!("only the session's owner can {what}"),
    )
    .into()
}

impl RealtimeService {
    async fn member_session(&self, caller: &Caller, id: &str) -> Result<Session, RealtimeError> {
        match self.sessions().get(id).await? {
            Some(session) if session.is_member(caller.user_id.as_str()) => Ok(session),
            _ => Err(session_not_found()),
        }
    }

    async fn publish_session(&self, session: &Session) -> Result<(), RealtimeError> {
        let message = json!({"type": "session.changed", "session": session.view()});
        for (member, _, _) in &session.members {
            self.publish(&Audience::User(member.clone()), None, &message)
                .await?;
        }
        Ok(())
    }

    /// Reads, changes and stores the session's state, again if someone changed it meanwhile.
    async fn change_state(
        &self,
        caller: &Caller,
        id: &str,
        change: impl Fn(&Session, &mut SessionState) -> Result<(), RealtimeError>,
    ) -> Result<SessionView, RealtimeError> {
        for _ in 0..20 {
            let session = self.member_session(caller, id).await?;
            let mut state = session.state.clone();
            change(&session, &mut state)?;
            if self
                .sessions()
                .save_state(id, session.version, &state)
                .await?
            {
                let session = self.member_session(caller, id).await?;
                self.publish_session(&session).await?;
                return Ok(session.view());
            }
        }
        Err(RealtimeError::Internal(
            "the session kept changing under a write".into(),
        ))
    }

    /// One session at a time: joining or starting one leaves the others (ending those the
    /// caller leads).
    async fn leave_other_sessions(&self, caller: &Caller, keep: &str) -> Result<(), RealtimeError> {
        for (id, owner) in self.sessions().sessions_of(caller.user_id.as_str()).await? {
            if id == keep {
                continue;
            }
            if owner == caller.user_id.as_str() {
                self.end_session(caller, &id).await?;
            } else {
                self.leave_session(caller, &id).await?;
            }
        }
        Ok(())
    }

    pub async fn create_session(&self, caller: &Caller) -> Result<SessionView, RealtimeError> {
        self.leave_other_sessions(caller, "").await?;
        let id = uuid::Uuid::now_v7().to_string();
        let invite = uuid::Uuid::new_v4().simple().to_string()[..16].to_string();
        self.sessions()
            .create(
                &id,
                (caller.user_id.as_str(), &caller.username),
                &invite,
                Timestamp::now().millis(),
            )
            .await?;
        let session = self.member_session(caller, &id).await?;
        self.publish_session(&session).await?;
        Ok(session.view())
    }

    pub async fn session(&self, caller: &Caller, id: &str) -> Result<SessionView, RealtimeError> {
        Ok(self.member_session(caller, id).await?.view())
    }

    /// The live session the caller joined last.
    pub async fn current_session(&self, caller: &Caller) -> Result<SessionView, RealtimeError> {
        match self.sessions().current_of(caller.user_id.as_str()).await? {
            Some(id) => self.session(caller, &id).await,
            None => Err(ApiError::not_found("no_session", "you are in no group session").into()),
        }
    }

    pub async fn join_session(
        &self,
        caller: &Caller,
        invite_code: &str,
    ) -> Result<SessionView, RealtimeError> {
        let Some(id) = self.sessions().id_by_invite(invite_code.trim()).await? else {
            return Err(ApiError::not_found(
                "invite_not_found",
                "this invite is wrong, or its session has ended",
            )
            .into());
        };
        self.leave_other_sessions(caller, &id).await?;
        self.sessions()
            .add_member(
                &id,
                (caller.user_id.as_str(), &caller.username),
                Timestamp::now().millis(),
            )
            .await?;
        let session = self.member_session(caller, &id).await?;
        self.publish_session(&session).await?;
        Ok(session.view())
    }

    pub async fn leave_session(&self, caller: &Caller, id: &str) -> Result<(), RealtimeError> {
        let session = self.member_session(caller, id).await?;
        if session.owner_id == caller.user_id.as_str() {
            return Err(ApiError::new(
                ErrorCode::Conflict,
                "owner_cannot_leave",
                "the owner ends the session instead of leaving it",
            )
            .into());
        }
        self.sessions()
            .remove_member(id, caller.user_id.as_str())
            .await?;
        self.publish(
            &Audience::User(caller.user_id.as_str().to_string()),
            None,
            &json!({"type": "session.ended", "session_id": id, "reason": "left"}),
        )
        .await?;
        if let Some(session) = self.sessions().get(id).await? {
            self.publish_session(&session).await?;
        }
        Ok(())
    }

    pub async fn end_session(&self, caller: &Caller, id: &str) -> Result<(), RealtimeError> {
        let session = self.member_session(caller, id).await?;
        if session.owner_id != caller.user_id.as_str() {
            return Err(owner_only("end it"));
        }
        self.sessions().end(id, Timestamp::now().millis()).await?;
        let message = json!({"type": "session.ended", "session_id": id, "reason": "ended"});
        for (member, _, _) in &session.members {
            self.publish(&Audience::User(member.clone()), None, &message)
                .await?;
        }
        Ok(())
    }

    /// Any member adds tracks at the end of the shared queue.
    pub async fn add_to_session(
        &self,
        caller: &Caller,
        id: &str,
        track_ids: &[String],
    ) -> Result<SessionView, RealtimeError> {
        let by = caller.user_id.as_str().to_string();
        self.change_state(caller, id, |_, state| {
            state.add(track_ids, &by).map_err(RealtimeError::from)
        })
        .await
    }

    /// The owner plays, pauses, seeks or moves through the queue for everyone.
    pub async fn session_playback(
        &self,
        caller: &Caller,
        id: &str,
        action: &Playback,
    ) -> Result<SessionView, RealtimeError> {
        let caller_id = caller.user_id.as_str().to_string();
        self.change_state(caller, id, |session, state| {
            if session.owner_id != caller_id {
                return Err(owner_only(
                    "control playback; add tracks to the queue instead",
                ));
            }
            state
                .apply(action, Timestamp::now().millis())
                .map_err(RealtimeError::from)
        })
        .await
    }
}
