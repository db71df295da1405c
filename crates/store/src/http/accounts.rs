//! Accounts and their sessions: signing up (`POST /api/v1/accounts`), signing in and out
//! (`POST` and `DELETE /api/v1/sessions`), out everywhere (`DELETE /api/v1/account/sessions`)
//! and a new password (`POST /api/v1/account/password`), behind the rate limits that bound
//! password guessing and account enumeration. Sessions have no module of their own: a session is what signing up
//! or in hands back, and signing out is their only other route.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{delete, post};
use axum::Json;

use super::shared::{bearer, Account, Client, JsonBody, Route, St};
use crate::api::*;
use crate::db;
use crate::error::StoreError;

/// This domain's part of the route table.
pub(super) fn table() -> Vec<Route> {
    vec![
        ("POST", "/api/v1/accounts", post(sign_up)),
        ("POST", "/api/v1/sessions", post(sign_in)),
        ("DELETE", "/api/v1/sessions", delete(sign_out)),
        (
            "DELETE",
            "/api/v1/account/sessions",
            delete(sign_out_everywhere),
        ),
        ("POST", "/api/v1/account/password", post(change_password)),
    ]
}

/// A plausible e-mail: something@something.tld, no spaces, not absurdly long.
fn plausible_email(email: &str) -> bool {
    let Some((user, domain)) = email.split_once('@') else {
        return false;
    };
    !user.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && email.chars().count() <= 254
        && !email.chars().any(char::is_whitespace)
}

/// Takes one attempt from a rate limit, or refuses with `rate_limited`.
fn limit<K: std::hash::Hash + Eq + Clone>(
    limiter: &crate::limit::Limiter<K>,
    key: &K,
    what: &'static str,
) -> Result<(), StoreError> {
    limiter
        .check(key)
        .map_err(|retry_after_s| StoreError::RateLimited {
            what,
            retry_after_s,
        })
}

async fn sign_up(
    State(s): St,
    Client(client): Client,
    JsonBody(req): JsonBody<SignUpRequest>,
) -> Result<(StatusCode, Json<SessionResponse>), StoreError> {
    let email = req.email.trim().to_lowercase();
    // The length as sent, as OpenAPI's maxLength counts it.
    if req.email.chars().count() > 254 || !plausible_email(&email) {
        return Err(StoreError::InvalidCredentials(
            "please give an e-mail address such as name@example.com".into(),
        ));
    }
    if req.password.chars().count() < MIN_PASSWORD_LEN {
        return Err(StoreError::InvalidCredentials(format!(
            "please choose a password of at least {MIN_PASSWORD_LEN} characters"
        )));
    }
    // Counted once the request is well formed, so typing mistakes cost nothing. This limit is
    // also what bounds account enumeration: `email_taken` says an e-mail has an account, but
    // an address can ask only a handful of times an hour, each after a full Argon2 hash.
    limit(
        &s.sign_up_by_address,
        &crate::limit::address_key(client),
        "sign-ups from here",
    )?;
    let account =
        db::accounts::create_account(&s.db, &s.passwords, &email, &req.password, 0, s.now())
            .await?;
    let (token, expires_at) =
        db::accounts::open_session(&s.db, account, s.session_ttl_s, s.now()).await?;
    tracing::info!(account, "account created");
    Ok((
        StatusCode::CREATED,
        Json(SessionResponse { token, expires_at }),
    ))
}

async fn sign_in(
    State(s): St,
    Client(client): Client,
    JsonBody(req): JsonBody<SessionRequest>,
) -> Result<Json<SessionResponse>, StoreError> {
    // Both limits are taken before the password is checked, so a burst of guesses does not
    // queue for the hasher; a success gives them back. Nothing is counted per e-mail alone:
    // strangers guessing from elsewhere never lock the owner out.
    let address = crate::limit::address_key(client);
    let pair = (address, crate::limit::email_key(&req.email));
    limit(
        &s.sign_in_by_address,
        &address,
        "sign-in attempts from here",
    )?;
    if let Err(e) = limit(
        &s.sign_in_by_email_and_address,
        &pair,
        "sign-in attempts for this e-mail from here",
    ) {
        s.sign_in_by_address.give_back(&address);
        return Err(e);
    }
    let signed = db::accounts::sign_in(
        &s.db,
        &s.passwords,
        &req.email,
        &req.password,
        s.session_ttl_s,
        s.now(),
    )
    .await;
    let (token, expires_at) = match signed {
        Ok(session) => session,
        Err(e @ StoreError::RateLimited { .. }) => {
            // Every hashing slot was busy: no password was checked, so nothing is counted
            // against this person (under load, an honest app asking again would otherwise
            // use up its own limit).
            s.sign_in_by_address.give_back(&address);
            s.sign_in_by_email_and_address.give_back(&pair);
            return Err(e);
        }
        Err(e) => return Err(e),
    };
    s.sign_in_by_address.give_back(&address);
    s.sign_in_by_email_and_address.clear(&pair);
    Ok(Json(SessionResponse { token, expires_at }))
}

/// Ends the session of the request (signing out): its token opens nothing afterwards.
async fn sign_out(
    State(s): St,
    Account(_): Account,
    headers: HeaderMap,
) -> Result<StatusCode, StoreError> {
    if let Some(token) = bearer(&headers) {
        db::accounts::end_session(&s.db, token).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Ends every session of the account, the caller's too: for a session someone else holds
/// (a lost computer, a copied token).
async fn sign_out_everywhere(
    State(s): St,
    Account(account): Account,
) -> Result<StatusCode, StoreError> {
    let ended = db::accounts::end_all_sessions(&s.db, account).await?;
    tracing::info!(account, ended, "signed out everywhere");
    Ok(StatusCode::NO_CONTENT)
}

/// A new password, given the current one (a stolen session alone cannot lock the owner out):
/// every other session ends. Guesses at the current password count against the same limits as
/// sign-ins from this address.
async fn change_password(
    State(s): St,
    Account(account): Account,
    Client(client): Client,
    headers: HeaderMap,
    JsonBody(req): JsonBody<PasswordChange>,
) -> Result<StatusCode, StoreError> {
    if req.new_password.chars().count() < MIN_PASSWORD_LEN {
        return Err(StoreError::InvalidCredentials(format!(
            "please choose a password of at least {MIN_PASSWORD_LEN} characters"
        )));
    }
    let address = crate::limit::address_key(client);
    limit(
        &s.sign_in_by_address,
        &address,
        "sign-in attempts from here",
    )?;
    let stored = db::accounts::password_hash(&s.db, account).await?;
    if !s
        .passwords
        .verify(Some(stored), &req.current_password)
        .await?
    {
        return Err(StoreError::InvalidCredentials(
            "your current password is not the one given: type it again".into(),
        ));
    }
    s.sign_in_by_address.give_back(&address);
    let hash = s.passwords.hash(&req.new_password).await?;
    let token = bearer(&headers).ok_or(StoreError::Unauthorized("you are not signed in"))?;
    let ended = db::accounts::change_password(&s.db, account, &hash, token).await?;
    tracing::info!(account, ended, "password changed; other sessions ended");
    Ok(StatusCode::NO_CONTENT)
}
