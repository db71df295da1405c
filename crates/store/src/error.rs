//! Store errors, each with an HTTP status and a stable code for clients.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::api::{ErrorBody, ErrorCode};

/// Everything a store request or start-up can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No title with that id.
    #[error("the store has no title \"{0}\"")]
    UnknownTitle(String),
    /// The wallet cannot pay.
    #[error("your wallet holds {balance}, and this costs {price}: add funds to continue")]
    InsufficientFunds {
        /// Formatted balance.
        balance: String,
        /// Formatted price.
        price: String,
    },
    /// Missing, wrong or expired credentials.
    #[error("please sign in again: {0}")]
    Unauthorized(&'static str),
    /// An order id reused with another request.
    #[error("order id {0} was already used for a different order")]
    OrderConflict(String),
    /// The device is not registered to this account.
    #[error("this computer is not registered with your account")]
    UnknownDevice,
    /// The device is registered to another account.
    #[error("this computer is registered to another account")]
    DeviceOfAnotherAccount,
    /// A malformed request.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// A body that is not the JSON the route expects.
    #[error("the request body is not valid JSON for this call: {0}")]
    MalformedJson(String),
    /// A body over the size limit.
    #[error("the request is too large (the limit is {0} bytes)")]
    PayloadTooLarge(usize),
    /// The session token expired.
    #[error("your session has expired: please sign in again")]
    SessionExpired,
    /// No such route.
    #[error("there is no {0}")]
    NotFound(String),
    /// The route exists, but not for this method.
    #[error("{0} is not allowed here")]
    MethodNotAllowed(String),
    /// No licence with that id belongs to the caller.
    #[error("you have no licence {0}")]
    UnknownLicence(String),
    /// The licence was revoked.
    #[error("licence {0} was revoked: it cannot be renewed or moved")]
    LicenceRevoked(String),
    /// Only purchases move between computers.
    #[error("only a purchase can move to another computer; a rental stays where it was rented")]
    NotMovable,
    /// The account has as many active computers as it may.
    #[error("your account already has {0} active computers, the most it may have: deactivate one you no longer use (Settings, Devices) to free a slot")]
    DeviceLimit(u32),
    /// The device was deactivated.
    #[error("this computer was deactivated: start Marquee on it again to re-register it")]
    DeviceInactive,
    /// The title is listed but cannot be delivered.
    #[error("\"{0}\" is not for sale yet")]
    NotForSale(String),
    /// Sign-up with an e-mail that has an account.
    #[error("an account with this e-mail already exists: sign in instead")]
    EmailTaken,
    /// Sign-up with an unusable e-mail or password.
    #[error("{0}")]
    InvalidCredentials(String),
    /// No voucher with that code.
    #[error("this voucher code is not known: check it for typing mistakes")]
    UnknownVoucher,
    /// The voucher was redeemed before.
    #[error("this voucher was already redeemed")]
    VoucherUsed,
    /// The same video is already on the shelf.
    #[error("this video is already published as “{0}”")]
    Duplicate(String),
    /// A publishing request not signed by the device's registered publishing key.
    #[error("this request is not signed by the publishing computer")]
    BadSignature,
    /// Only the store's operator may do this.
    #[error("only the store's operator can do that")]
    OperatorOnly,
    /// Database failure.
    #[error("store database error")]
    Database(#[from] sqlx::Error),
    /// Anything else on the server side.
    #[error("store error: {0}")]
    Internal(String),
}

impl StoreError {
    /// The stable code sent to clients.
    pub fn code(&self) -> ErrorCode {
        match self {
            StoreError::UnknownTitle(_) => ErrorCode::UnknownTitle,
            StoreError::InsufficientFunds { .. } => ErrorCode::InsufficientFunds,
            StoreError::Unauthorized(_) => ErrorCode::Unauthorized,
            StoreError::OrderConflict(_) => ErrorCode::OrderConflict,
            StoreError::UnknownDevice => ErrorCode::UnknownDevice,
            StoreError::DeviceOfAnotherAccount => ErrorCode::DeviceOfAnotherAccount,
            StoreError::BadRequest(_) => ErrorCode::BadRequest,
            StoreError::MalformedJson(_) => ErrorCode::MalformedJson,
            StoreError::PayloadTooLarge(_) => ErrorCode::PayloadTooLarge,
            StoreError::SessionExpired => ErrorCode::SessionExpired,
            StoreError::NotFound(_) => ErrorCode::NotFound,
            StoreError::MethodNotAllowed(_) => ErrorCode::MethodNotAllowed,
            StoreError::UnknownLicence(_) => ErrorCode::UnknownLicence,
            StoreError::LicenceRevoked(_) => ErrorCode::LicenceRevoked,
            StoreError::NotMovable => ErrorCode::NotMovable,
            StoreError::DeviceLimit(_) => ErrorCode::DeviceLimit,
            StoreError::DeviceInactive => ErrorCode::DeviceInactive,
            StoreError::NotForSale(_) => ErrorCode::NotForSale,
            StoreError::EmailTaken => ErrorCode::EmailTaken,
            StoreError::InvalidCredentials(_) => ErrorCode::InvalidCredentials,
            StoreError::UnknownVoucher => ErrorCode::UnknownVoucher,
            StoreError::VoucherUsed => ErrorCode::VoucherUsed,
            StoreError::Duplicate(_) => ErrorCode::Duplicate,
            StoreError::BadSignature => ErrorCode::BadSignature,
            StoreError::OperatorOnly => ErrorCode::OperatorOnly,
            StoreError::Database(_) | StoreError::Internal(_) => ErrorCode::Internal,
        }
    }

    /// The HTTP status of the answer.
    pub fn status(&self) -> StatusCode {
        match self {
            StoreError::UnknownTitle(_) => StatusCode::NOT_FOUND,
            StoreError::InsufficientFunds { .. } => StatusCode::PAYMENT_REQUIRED,
            StoreError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            StoreError::OrderConflict(_) => StatusCode::CONFLICT,
            StoreError::UnknownDevice | StoreError::DeviceOfAnotherAccount => StatusCode::FORBIDDEN,
            StoreError::BadRequest(_)
            | StoreError::MalformedJson(_)
            | StoreError::InvalidCredentials(_) => StatusCode::BAD_REQUEST,
            StoreError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            StoreError::SessionExpired => StatusCode::UNAUTHORIZED,
            StoreError::NotFound(_)
            | StoreError::UnknownLicence(_)
            | StoreError::UnknownVoucher => StatusCode::NOT_FOUND,
            StoreError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            StoreError::LicenceRevoked(_)
            | StoreError::NotMovable
            | StoreError::DeviceLimit(_)
            | StoreError::NotForSale(_)
            | StoreError::EmailTaken
            | StoreError::VoucherUsed
            | StoreError::Duplicate(_) => StatusCode::CONFLICT,
            StoreError::BadSignature | StoreError::OperatorOnly => StatusCode::FORBIDDEN,
            StoreError::DeviceInactive => StatusCode::FORBIDDEN,
            StoreError::Database(_) | StoreError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<anyhow::Error> for StoreError {
    fn from(e: anyhow::Error) -> Self {
        StoreError::Internal(format!("{e:#}"))
    }
}

impl IntoResponse for StoreError {
    fn into_response(self) -> Response {
        if matches!(self, StoreError::Database(_) | StoreError::Internal(_)) {
            tracing::error!(error = ?self, "store request failed");
        }
        let body = ErrorBody {
            code: self.code(),
            message: self.to_string(),
        };
        (self.status(), Json(body)).into_response()
    }
}

/// Formats cents as "4.00".
pub fn format_cents(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", (cents / 100).abs(), (cents % 100).abs())
}

/// Parses an amount such as "10", "10.5" or "10.00" into cents.
pub fn parse_cents(s: &str) -> Option<i64> {
    let (whole, frac) = s.trim().split_once('.').unwrap_or((s.trim(), ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || frac.len() > 2 {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let frac: i64 = match frac.len() {
        0 => 0,
        1 => frac.parse::<i64>().ok()? * 10,
        _ => frac.parse().ok()?,
    };
    whole.checked_mul(100)?.checked_add(frac)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_round_trip() {
        assert_eq!(format_cents(400), "4.00");
        assert_eq!(format_cents(-5), "-0.05");
        assert_eq!(parse_cents("10.00"), Some(1000));
        assert_eq!(parse_cents("10.5"), Some(1050));
        assert_eq!(parse_cents("7"), Some(700));
        assert_eq!(parse_cents("1.234"), None);
        assert_eq!(parse_cents("-1"), None);
        assert_eq!(parse_cents("abc"), None);
    }
}
