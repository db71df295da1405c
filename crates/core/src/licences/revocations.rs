//! Licence ids the store revoked during this run. The licence sync learns of them and the
//! playback server checks them before every chunk it sends, so a revoked title stops
//! mid-stream. One shared set handed to both at start-up: the sync never needs to know the
//! server exists, and a revocation is seen by the very next check, with no message in flight.
//! A leaf: it imports nothing of the core's.

use std::collections::HashSet;
use std::sync::{Arc, RwLock};

/// The set of revoked licence ids; cheap to clone, every clone the same set.
#[derive(Clone, Debug, Default)]
pub(crate) struct Revocations(Arc<RwLock<HashSet<[u8; 16]>>>);

impl Revocations {
    /// Marks a licence revoked for the rest of the run.
    pub(crate) fn revoke(&self, licence_id: [u8; 16]) {
        self.0.write().expect("revocations lock").insert(licence_id);
    }

    /// Whether the store revoked this licence during this run.
    pub(crate) fn contains(&self, licence_id: &[u8; 16]) -> bool {
        self.0
            .read()
            .expect("revocations lock")
            .contains(licence_id)
    }
}
