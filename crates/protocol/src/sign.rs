//! Store signatures: every signed message starts with a context that names what it is, so a
//! signature made for one purpose (a catalog) never verifies as another (a clock reading).
//! Licences carry their own signed format in `marquee-licence`.

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};

/// What a signature vouches for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignatureContext {
    /// The catalog feed's JSON text, signed by the store.
    Feed,
    /// The store's clock (`i64` big-endian unix seconds), signed by the store.
    Time,
    /// A community title's payload, signed by the publishing device's key.
    Publish,
    /// A live channel's record (its JSON text), signed by the channel's key.
    Channel,
    /// A live channel's heartbeat or end, signed by the channel's key.
    ChannelSignal,
    /// A live viewer's report (its JSON text), signed by the viewer's node key.
    ViewerReport,
}

impl SignatureContext {
    /// The bytes that precede the signed message.
    pub const fn prefix(self) -> &'static [u8] {
        match self {
            SignatureContext::Feed => b"marquee feed v1",
            SignatureContext::Time => b"marquee time v1",
            SignatureContext::Publish => b"marquee publish v1",
            SignatureContext::Channel => b"marquee channel v1",
            SignatureContext::ChannelSignal => b"marquee channel signal v1",
            SignatureContext::ViewerReport => b"marquee viewer report v1",
        }
    }

    fn message(self, bytes: &[u8]) -> Vec<u8> {
        let prefix = self.prefix();
        let mut msg = Vec::with_capacity(prefix.len() + bytes.len());
        msg.extend_from_slice(prefix);
        msg.extend_from_slice(bytes);
        msg
    }
}

/// A signature or key that does not check out.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// Not 64 bytes of hex.
    #[error("the signature is malformed")]
    Malformed,
    /// Well-formed, but not made by this key over these bytes.
    #[error("the signature is not the signer's")]
    Wrong,
    /// A public key that is not 32 bytes of hex or not a valid Ed25519 point.
    #[error("the public key is malformed")]
    BadKey,
}

/// Signs `bytes` under `context`; the signature as hex.
pub fn sign(key: &SigningKey, context: SignatureContext, bytes: &[u8]) -> String {
    hex::encode(key.sign(&context.message(bytes)).to_bytes())
}

/// Checks a hex signature made by [`sign`].
pub fn verify(
    key: &VerifyingKey,
    context: SignatureContext,
    bytes: &[u8],
    signature_hex: &str,
) -> Result<(), SignatureError> {
    let mut sig = [0u8; 64];
    hex::decode_to_slice(signature_hex, &mut sig).map_err(|_| SignatureError::Malformed)?;
    key.verify(&context.message(bytes), &Signature::from_bytes(&sig))
        .map_err(|_| SignatureError::Wrong)
}

/// Parses a hex Ed25519 public key, as the store announces its own.
pub fn public_key_from_hex(hex_key: &str) -> Result<VerifyingKey, SignatureError> {
    let mut raw = [0u8; 32];
    hex::decode_to_slice(hex_key, &mut raw).map_err(|_| SignatureError::BadKey)?;
    VerifyingKey::from_bytes(&raw).map_err(|_| SignatureError::BadKey)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_only_in_its_own_context_and_for_its_own_bytes() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let public = key.verifying_key();
        let sig = sign(&key, SignatureContext::Feed, b"{}");
        assert_eq!(verify(&public, SignatureContext::Feed, b"{}", &sig), Ok(()));
        assert_eq!(
            verify(&public, SignatureContext::Time, b"{}", &sig),
            Err(SignatureError::Wrong)
        );
        assert_eq!(
            verify(&public, SignatureContext::Feed, b"{ }", &sig),
            Err(SignatureError::Wrong)
        );
        assert_eq!(
            verify(&public, SignatureContext::Feed, b"{}", "zz"),
            Err(SignatureError::Malformed)
        );
        let other = SigningKey::from_bytes(&[8; 32]).verifying_key();
        assert_eq!(
            verify(&other, SignatureContext::Feed, b"{}", &sig),
            Err(SignatureError::Wrong)
        );
    }

    #[test]
    fn public_keys_round_trip_through_hex() {
        let public = SigningKey::from_bytes(&[7; 32]).verifying_key();
        assert_eq!(
            public_key_from_hex(&hex::encode(public.to_bytes())),
            Ok(public)
        );
        assert_eq!(public_key_from_hex("00"), Err(SignatureError::BadKey));
    }
}
