//! Checking a catalog answer against the store's key: for answers from the network and for the
//! offline copy alike.

use ed25519_dalek::VerifyingKey;
use marquee_protocol::api::{CatalogFeed, SignedFeed};
use marquee_protocol::sign::{verify, SignatureContext};

use crate::error::{Error, Result};

/// Verifies a signed feed and parses it.
pub fn verify_feed(key: &VerifyingKey, signed: &SignedFeed) -> Result<CatalogFeed> {
    verify(
        key,
        SignatureContext::Feed,
        signed.feed.as_bytes(),
        &signed.signature,
    )
    .map_err(|e| Error::CatalogUntrusted(e.to_string()))?;
    serde_json::from_str(&signed.feed)
        .map_err(|e| Error::StoreIncompatible(format!("the catalog does not parse: {e}")))
}
