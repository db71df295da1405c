//! Store errors, each with an HTTP status and a stable code for clients.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::api::{ErrorBody, ErrorCode};

/// Declares [`StoreError`]: each variant with its message, its stable code and its HTTP status
/// side by side, and from the same lines [`StoreError::CODES`], the list of every code. A new
/// error cannot be added without a code, and the list clients are documented against
/// (`openapi.json`, checked by a test) cannot miss it.
macro_rules! store_errors {
    (
        $(#[$enum_meta:meta])*
        pub enum $name:ident {
            $(
                $(#[$meta:meta])*
                $variant:ident
                $( ( $( $(#[$tuple_meta:meta])* $tuple:ty ),* $(,)? ) )?
                $( { $( $(#[$field_meta:meta])* $field:ident : $field_ty:ty ),* $(,)? } )?
                => $code:ident, $status:ident;
            )*
        }
    ) => {
        $(#[$enum_meta])*
        pub enum $name {
            $(
                $(#[$meta])*
                $variant
                $( ( $( $(#[$tuple_meta])* $tuple ),* ) )?
                $( { $( $(#[$field_meta])* $field : $field_ty ),* } )?,
            )*
        }

        impl $name {
            /// Every stable code, in declaration order. A code may serve more than one variant
            /// (both server-side failures are `internal`).
            pub const CODES: &'static [ErrorCode] = &[$(ErrorCode::$code),*];

            /// The stable code sent to clients.
            pub fn code(&self) -> ErrorCode {
                // `{ .. }` matches unit, tuple and struct variants alike.
                match self {
                    $( $name::$variant { .. } => ErrorCode::$code, )*
                }
            }

            /// The HTTP status of the answer.
            pub fn status(&self) -> StatusCode {
                match self {
                    $( $name::$variant { .. } => StatusCode::$status, )*
                }
            }
        }
    };
}

store_errors! {
    /// Everything a store request or start-up can fail with.
    #[derive(Debug, thiserror::Error)]
    pub enum StoreError {
        /// No title with that id.
        #[error("the store has no title \"{0}\"")]
        UnknownTitle(String) => UnknownTitle, NOT_FOUND;
        /// The wallet cannot pay.
        #[error("your wallet holds {balance}, and this costs {price}: add funds to continue")]
        InsufficientFunds {
            /// Formatted balance.
            balance: String,
            /// Formatted price.
            price: String,
        } => InsufficientFunds, PAYMENT_REQUIRED;
        /// Missing, wrong or expired credentials.
        #[error("please sign in again: {0}")]
        Unauthorized(&'static str) => Unauthorized, UNAUTHORIZED;
        /// An order id reused with another request.
        #[error("order id {0} was already used for a different order")]
        OrderConflict(String) => OrderConflict, CONFLICT;
        /// The device is not registered to this account.
        #[error("this computer is not registered with your account")]
        UnknownDevice => UnknownDevice, FORBIDDEN;
        /// A malformed request.
        #[error("bad request: {0}")]
        BadRequest(String) => BadRequest, BAD_REQUEST;
        /// A body that is not the JSON the route expects.
        #[error("the request body is not valid JSON for this call: {0}")]
        MalformedJson(String) => MalformedJson, BAD_REQUEST;
        /// A body over the size limit.
        #[error("the request is too large (the limit is {0} bytes)")]
        PayloadTooLarge(usize) => PayloadTooLarge, PAYLOAD_TOO_LARGE;
        /// The session token expired.
        #[error("your session has expired: please sign in again")]
        SessionExpired => SessionExpired, UNAUTHORIZED;
        /// No such route.
        #[error("there is no {0}")]
        NotFound(String) => NotFound, NOT_FOUND;
        /// The route exists, but not for this method.
        #[error("{0} is not allowed here")]
        MethodNotAllowed(String) => MethodNotAllowed, METHOD_NOT_ALLOWED;
        /// No licence with that id belongs to the caller.
        #[error("you have no licence {0}")]
        UnknownLicence(String) => UnknownLicence, NOT_FOUND;
        /// The licence was revoked.
        #[error("licence {0} was revoked: it cannot be renewed or moved")]
        LicenceRevoked(String) => LicenceRevoked, CONFLICT;
        /// Only purchases move between computers.
        #[error("only a purchase can move to another computer; a rental stays where it was rented")]
        NotMovable => NotMovable, CONFLICT;
        /// The account has as many active computers as it may.
        #[error("your account already has {0} active computers, the most it may have: deactivate one you no longer use (Settings, Devices) to free a slot")]
        DeviceLimit(u32) => DeviceLimit, CONFLICT;
        /// The device was deactivated.
        #[error("this computer was deactivated: start Marquee on it again to re-register it")]
        DeviceInactive => DeviceInactive, FORBIDDEN;
        /// The title is listed but cannot be delivered.
        #[error("\"{0}\" is not for sale yet")]
        NotForSale(String) => NotForSale, CONFLICT;
        /// Sign-up with an e-mail that has an account.
        #[error("an account with this e-mail already exists: sign in instead")]
        EmailTaken => EmailTaken, CONFLICT;
        /// Sign-up with an unusable e-mail or password.
        #[error("{0}")]
        InvalidCredentials(String) => InvalidCredentials, BAD_REQUEST;
        /// No voucher with that code.
        #[error("this voucher code is not known: check it for typing mistakes")]
        UnknownVoucher => UnknownVoucher, NOT_FOUND;
        /// The voucher was redeemed before.
        #[error("this voucher was already redeemed")]
        VoucherUsed => VoucherUsed, CONFLICT;
        /// The same video is already on the shelf.
        #[error("this video is already published as “{0}”")]
        Duplicate(String) => Duplicate, CONFLICT;
        /// A publishing request not signed by the device's registered publishing key.
        #[error("this request is not signed by the publishing computer")]
        BadSignature => BadSignature, FORBIDDEN;
        /// Only the store's operator may do this.
        #[error("only the store's operator can do that")]
        OperatorOnly => OperatorOnly, FORBIDDEN;
        /// A purchase that plays on another computer of the account.
        #[error("you bought “{0}” and it plays on another of your computers: choose Move it here to play it on this one (it then stops playing there)")]
        LicensedElsewhere(String) => LicensedElsewhere, CONFLICT;
        /// A device key that is not a usable X25519 public key.
        #[error("this computer's key is not a usable key (all zero or of low order): reinstall Marquee or delete its data folder to make a new one")]
        InvalidDeviceKey => InvalidDeviceKey, BAD_REQUEST;
        /// Too many attempts from one address or for one account, or the store is checking
        /// as many passwords as it may at once. Sent with `Retry-After`.
        #[error("too many {what}: wait {} and try again", wait_words(*.retry_after_s))]
        RateLimited {
            /// What there were too many of, e.g. "sign-in attempts from here".
            what: &'static str,
            /// Seconds until an attempt may succeed (the `Retry-After` header).
            retry_after_s: u64,
        } => RateLimited, TOO_MANY_REQUESTS;
        /// A JSON body sent without `Content-Type: application/json`. Insisting on it means a
        /// web page cannot send a body here without a CORS preflight, which the store never
        /// grants.
        #[error("this call takes a JSON body: send it with Content-Type: application/json")]
        UnsupportedMediaType => UnsupportedMediaType, UNSUPPORTED_MEDIA_TYPE;
        /// A request to the embedded store under another name than 127.0.0.1 or localhost.
        #[error("this store only answers requests addressed to 127.0.0.1 or localhost")]
        ForeignHost => BadRequest, MISDIRECTED_REQUEST;
        /// Database failure.
        #[error("store database error")]
        Database(#[from] sqlx::Error) => Internal, INTERNAL_SERVER_ERROR;
        /// Anything else on the server side.
        #[error("store error: {0}")]
        Internal(String) => Internal, INTERNAL_SERVER_ERROR;
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
        let mut response = (self.status(), Json(body)).into_response();
        if let StoreError::RateLimited { retry_after_s, .. } = self {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(retry_after_s.max(1)),
            );
        }
        response
    }
}

/// "a minute", "a few seconds": how long to wait, in words a person reads after "wait".
fn wait_words(seconds: u64) -> String {
    match seconds {
        0..=9 => "a few seconds".to_owned(),
        10..=50 => format!("{seconds} seconds"),
        51..=90 => "a minute".to_owned(),
        _ => format!("{} minutes", seconds.div_ceil(60)),
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
    fn the_store_sends_exactly_the_wire_crates_codes() {
        // Clients match on these; `openapi.json` lists them (checked by the integration tests).
        let sent: std::collections::BTreeSet<&str> =
            StoreError::CODES.iter().map(|c| c.as_str()).collect();
        let wire: std::collections::BTreeSet<&str> =
            ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(
            sent, wire,
            "a code the wire crate declares is never sent, or the reverse"
        );
        for code in &sent {
            assert!(
                !code.is_empty() && code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{code:?} is not snake_case"
            );
        }
        assert_eq!(StoreError::UnknownDevice.code(), ErrorCode::UnknownDevice);
        assert_eq!(
            StoreError::Internal("x".into()).status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }

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
