//! Store errors, each with an HTTP status and a stable code for clients.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::api::ErrorBody;

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
    /// Database failure.
    #[error("store database error")]
    Database(#[from] sqlx::Error),
    /// Anything else on the server side.
    #[error("store error: {0}")]
    Internal(String),
}

impl StoreError {
    /// The stable code sent to clients.
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::UnknownTitle(_) => "unknown_title",
            StoreError::InsufficientFunds { .. } => "insufficient_funds",
            StoreError::Unauthorized(_) => "unauthorized",
            StoreError::OrderConflict(_) => "order_conflict",
            StoreError::UnknownDevice => "unknown_device",
            StoreError::DeviceOfAnotherAccount => "device_of_another_account",
            StoreError::BadRequest(_) => "bad_request",
            StoreError::Database(_) | StoreError::Internal(_) => "internal",
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            StoreError::UnknownTitle(_) => StatusCode::NOT_FOUND,
            StoreError::InsufficientFunds { .. } => StatusCode::PAYMENT_REQUIRED,
            StoreError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            StoreError::OrderConflict(_) => StatusCode::CONFLICT,
            StoreError::UnknownDevice | StoreError::DeviceOfAnotherAccount => StatusCode::FORBIDDEN,
            StoreError::BadRequest(_) => StatusCode::BAD_REQUEST,
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
            code: self.code().to_owned(),
            message: self.to_string(),
        };
        (self.status(), Json(body)).into_response()
    }
}

/// Formats cents as "4.00".
pub fn format_cents(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, (cents % 100).abs())
}
