//! Thin handlers: extract, call [`AuthService`], map to DTOs.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use beatstream_core::{ApiError, ApiJson, Caller, ClientAddr};

use super::dto::*;
use crate::model::{NewAccount, SubsonicProof};
use crate::service::AuthService;

#[utoipa::path(post, path = "/api/v1/auth/signup", tag = "auth", request_body = SignupRequest,
    responses((status = 201, body = SessionResponse), (status = 400, description = "invalid input"),
              (status = 403, description = "sign-up closed"), (status = 409, description = "username taken")))]
pub async fn signup(
    State(auth): State<AuthService>,
    caller: Option<Caller>,
    ApiJson(body): ApiJson<SignupRequest>,
) -> Result<(StatusCode, Json<SessionResponse>), ApiError> {
    if let Some(caller) = &caller {
        caller.require_full_scope()?;
    }
    let account = NewAccount {
        username: body.username,
        password: body.password,
        email: body.email,
        display_name: body.display_name,
    };
    let session = auth.signup(account, caller.as_ref()).await?;
    Ok((StatusCode::CREATED, Json(session.into())))
}

#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = SessionResponse), (status = 401, description = "invalid credentials"),
              (status = 429, description = "too many attempts; see Retry-After")))]
pub async fn login(
    State(auth): State<AuthService>,
    ClientAddr(client): ClientAddr,
    ApiJson(body): ApiJson<LoginRequest>,
) -> Result<Json<SessionResponse>, ApiError> {
    let session = auth.login(&body.username, &body.password, client).await?;
    Ok(Json(session.into()))
}

#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = SessionResponse), (status = 401, description = "invalid or reused token")))]
pub async fn refresh(
    State(auth): State<AuthService>,
    ApiJson(body): ApiJson<RefreshRequest>,
) -> Result<Json<SessionResponse>, ApiError> {
    let session = auth.refresh(&body.refresh_token).await?;
    Ok(Json(session.into()))
}

#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", request_body = RefreshRequest,
    responses((status = 204, description = "session ended")))]
pub async fn logout(
    State(auth): State<AuthService>,
    ApiJson(body): ApiJson<RefreshRequest>,
) -> Result<StatusCode, ApiError> {
    auth.logout(&body.refresh_token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Whether a bearer credential (access token or personal API token) is good, and whose it is:
/// `{active: true, user: {id, username, role}}` or `{active: false}`. Other instances that do
/// not run the auth service ask this about API tokens (access tokens they check with the JWKS).
#[utoipa::path(post, path = "/api/v1/auth/introspect", tag = "auth", request_body = IntrospectRequest,
    responses((status = 200, body = IntrospectResponse)))]
pub async fn introspect(
    State(auth): State<AuthService>,
    ApiJson(body): ApiJson<IntrospectRequest>,
) -> Json<IntrospectResponse> {
    Json(match auth.verifier().verify(&body.token).await {
        Ok(caller) => IntrospectResponse {
            active: true,
            user: Some(IntrospectedUser {
                id: caller.user_id.to_string(),
                username: caller.username,
                role: caller.role,
            }),
        },
        Err(_) => IntrospectResponse {
            active: false,
            user: None,
        },
    })
}

#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "auth",
    responses((status = 200, body = JwksResponse)))]
pub async fn jwks(State(auth): State<AuthService>) -> Json<JwksResponse> {
    Json(auth.keys().jwks())
}

#[utoipa::path(post, path = "/api/v1/me/tokens", tag = "auth", request_body = CreateTokenRequest,
    responses((status = 201, body = CreatedTokenResponse)), security(("bearer" = [])))]
pub async fn create_token(
    State(auth): State<AuthService>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateTokenRequest>,
) -> Result<(StatusCode, Json<CreatedTokenResponse>), ApiError> {
    caller.require_full_scope()?;
    let (token, secret) = auth.create_api_token(&caller, &body.name).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedTokenResponse {
            id: token.id,
            name: token.name,
            token: secret,
            created_at: token.created_at,
        }),
    ))
}

#[utoipa::path(get, path = "/api/v1/me/tokens", tag = "auth",
    responses((status = 200, body = TokenList)), security(("bearer" = [])))]
pub async fn list_tokens(
    State(auth): State<AuthService>,
    caller: Caller,
) -> Result<Json<TokenList>, ApiError> {
    caller.require_full_scope()?;
    let items = auth.list_api_tokens(&caller).await?;
    Ok(Json(TokenList {
        items: items.into_iter().map(TokenDto::from).collect(),
        next_cursor: None,
    }))
}

#[utoipa::path(delete, path = "/api/v1/me/tokens/{id}", tag = "auth",
    responses((status = 204), (status = 404)), security(("bearer" = [])))]
pub async fn revoke_token(
    State(auth): State<AuthService>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require_full_scope()?;
    auth.revoke_api_token(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/admin/users", tag = "admin", request_body = CreateUserRequest,
    responses((status = 201, body = AccountDto), (status = 403), (status = 409)), security(("bearer" = [])))]
pub async fn create_user(
    State(auth): State<AuthService>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateUserRequest>,
) -> Result<(StatusCode, Json<AccountDto>), ApiError> {
    caller.require_full_scope()?;
    caller.require_admin()?;
    let account = NewAccount {
        username: body.username,
        password: body.password,
        email: body.email,
        display_name: body.display_name,
    };
    let created = auth.create_account(account, body.role, true).await?;
    Ok((StatusCode::CREATED, Json(AccountDto::from(&created))))
}

#[utoipa::path(post, path = "/api/v1/admin/auth/rotate-key", tag = "admin",
    responses((status = 200, body = RotatedKeyResponse), (status = 403)), security(("bearer" = [])))]
pub async fn rotate_key(
    State(auth): State<AuthService>,
    caller: Caller,
) -> Result<Json<RotatedKeyResponse>, ApiError> {
    caller.require_full_scope()?;
    caller.require_admin()?;
    let kid = auth.keys().rotate().await?;
    Ok(Json(RotatedKeyResponse { kid }))
}

#[utoipa::path(post, path = "/api/v1/me/app-passwords", tag = "auth", request_body = CreateAppPasswordRequest,
    responses((status = 201, body = CreatedAppPasswordResponse)), security(("bearer" = [])))]
pub async fn create_app_password(
    State(auth): State<AuthService>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateAppPasswordRequest>,
) -> Result<(StatusCode, Json<CreatedAppPasswordResponse>), ApiError> {
    caller.require_full_scope()?;
    let (password, secret) = auth.create_app_password(&caller, &body.name).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedAppPasswordResponse {
            id: password.id,
            name: password.name,
            password: secret,
            created_at: password.created_at,
        }),
    ))
}

#[utoipa::path(get, path = "/api/v1/me/app-passwords", tag = "auth",
    responses((status = 200, body = TokenList, description = "app passwords, without the passwords")), security(("bearer" = [])))]
pub async fn list_app_passwords(
    State(auth): State<AuthService>,
    caller: Caller,
) -> Result<Json<TokenList>, ApiError> {
    caller.require_full_scope()?;
    let items = auth.list_app_passwords(&caller).await?;
    Ok(Json(TokenList {
        items: items.into_iter().map(TokenDto::from).collect(),
        next_cursor: None,
    }))
}

#[utoipa::path(delete, path = "/api/v1/me/app-passwords/{id}", tag = "auth",
    responses((status = 204), (status = 404)), security(("bearer" = [])))]
pub async fn revoke_app_password(
    State(auth): State<AuthService>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require_full_scope()?;
    auth.revoke_app_password(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Signs a Subsonic client in with an app password (the Subsonic API calls this on each of
/// its callers' behalf): a password, or an md5 token of one with its salt.
#[utoipa::path(post, path = "/api/v1/auth/subsonic", tag = "auth", request_body = SubsonicSignInRequest,
    responses((status = 200, body = GrantResponse), (status = 400, description = "neither password nor token and salt"),
              (status = 401, description = "invalid credentials"), (status = 429, description = "too many failed attempts")))]
pub async fn subsonic_sign_in(
    State(auth): State<AuthService>,
    ClientAddr(client): ClientAddr,
    ApiJson(body): ApiJson<SubsonicSignInRequest>,
) -> Result<Json<GrantResponse>, ApiError> {
    let proof = match (body.password, body.token, body.salt) {
        (Some(password), None, None) => SubsonicProof::Password(password),
        (None, Some(token), Some(salt)) => SubsonicProof::Token { token, salt },
        _ => {
            return Err(ApiError::invalid(
                "invalid_argument",
                "send either `password`, or `token` and `salt`",
            ))
        }
    };
    let grant = auth
        .subsonic_sign_in(&body.username, &proof, client)
        .await?;
    Ok(Json(GrantResponse {
        user: AccountDto::from(&grant.user),
        access_token: grant.access_token,
        token_type: "Bearer",
        expires_in: grant.expires_in,
    }))
}
