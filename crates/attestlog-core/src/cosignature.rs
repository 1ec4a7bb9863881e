//! C2SP tlog-cosignature `cosignature/v1`: a witness's timestamped
//! statement that it has verified a checkpoint's consistency.
//!
//! ```text
//! key type        = 0x04
//! key ID          = SHA-256(name || "\n" || 0x04 || Ed25519 public key)[0..4]
//! signed message  = "cosignature/v1\n" "time " decimal(timestamp) "\n" checkpoint-text
//! signature bytes = timestamp (8 bytes, big-endian) || Ed25519 signature (64 bytes)
//! ```
//!
//! `checkpoint-text` is the whole note text of the checkpoint: origin,
//! size, root hash and any extension lines, with its final newline. A
//! cosignature travels as an ordinary signature line of the checkpoint's
//! signed note, under the witness's key name, so notes carrying
//! cosignatures stay readable by verifiers that know only the log key.
//!
//! The timestamp is seconds since the Unix epoch and must not exceed 2^63−1
//! (C2SP: "the timestamp MUST be less than 2^63").

use ed25519_dalek::{Signer as _, VerifyingKey};

use crate::note::key::{KeyError, KeyType, SignerKey, VerifierKey};
use crate::note::{NoteSignature, NoteVerifier};

/// The first line of every cosigned message.
pub const COSIGNATURE_V1_HEADER: &str = "cosignature/v1\n";

/// Length of a cosignature: 8-byte timestamp and 64-byte Ed25519 signature.
pub const COSIGNATURE_LEN: usize = 72;

/// The largest timestamp a cosignature may carry, 2^63 − 1.
pub const MAX_TIMESTAMP: u64 = (1 << 63) - 1;

/// Why a cosignature could not be made or did not verify.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CosignatureError {
    /// The signature bytes are not 72 bytes long.
    #[error("cosignature is {0} bytes; cosignature/v1 signatures are 72")]
    WrongLength(usize),
    /// The timestamp is 2^63 or more.
    #[error("cosignature timestamp {0} is not below 2^63")]
    TimestampTooLarge(u64),
    /// The Ed25519 signature does not verify.
    #[error("cosignature does not verify")]
    BadSignature,
    /// The key is not a cosignature (0x04) key.
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// The message a witness signs: header, time line, checkpoint text.
pub fn signed_message(timestamp: u64, checkpoint_text: &str) -> Vec<u8> {
    let mut m = Vec::with_capacity(40 + checkpoint_text.len());
    m.extend_from_slice(COSIGNATURE_V1_HEADER.as_bytes());
    m.extend_from_slice(format!("time {timestamp}\n").as_bytes());
    m.extend_from_slice(checkpoint_text.as_bytes());
    m
}

/// Cosigns `checkpoint_text` at `timestamp` with a cosignature (0x04) key,
/// giving the signature line to add to the checkpoint's note.
pub fn cosign(
    key: &SignerKey,
    checkpoint_text: &str,
    timestamp: u64,
) -> Result<NoteSignature, CosignatureError> {
    if key.key_type() != KeyType::Cosignature {
        return Err(KeyError::WrongType {
            expected: KeyType::Cosignature.byte(),
            got: key.key_type().byte(),
        }
        .into());
    }
    if timestamp > MAX_TIMESTAMP {
        return Err(CosignatureError::TimestampTooLarge(timestamp));
    }
    let sig = key
        .signing_key()
        .sign(&signed_message(timestamp, checkpoint_text));
    let mut bytes = Vec::with_capacity(COSIGNATURE_LEN);
    bytes.extend_from_slice(&timestamp.to_be_bytes());
    bytes.extend_from_slice(&sig.to_bytes());
    Ok(NoteSignature {
        name: key.name().to_owned(),
        key_id: key.key_id(),
        signature: bytes,
    })
}

/// Verifies a witness's cosignature on `checkpoint_text` and returns its
/// timestamp. The signature's name and key ID must be the witness key's.
pub fn verify(
    witness: &VerifierKey,
    checkpoint_text: &str,
    signature: &NoteSignature,
) -> Result<u64, CosignatureError> {
    if witness.key_type() != KeyType::Cosignature {
        return Err(KeyError::WrongType {
            expected: KeyType::Cosignature.byte(),
            got: witness.key_type().byte(),
        }
        .into());
    }
    if signature.name != witness.name() || signature.key_id != witness.key_id() {
        return Err(CosignatureError::BadSignature);
    }
    verify_raw(
        witness.verifying_key(),
        checkpoint_text,
        &signature.signature,
    )
}

/// Verifies the 72 cosignature bytes under an Ed25519 key; returns the
/// timestamp.
pub(crate) fn verify_raw(
    key: &VerifyingKey,
    checkpoint_text: &str,
    bytes: &[u8],
) -> Result<u64, CosignatureError> {
    if bytes.len() != COSIGNATURE_LEN {
        return Err(CosignatureError::WrongLength(bytes.len()));
    }
    let (ts, sig) = bytes.split_at(8);
    let timestamp = u64::from_be_bytes(ts.try_into().map_err(|_| CosignatureError::BadSignature)?);
    if timestamp > MAX_TIMESTAMP {
        return Err(CosignatureError::TimestampTooLarge(timestamp));
    }
    let sig =
        ed25519_dalek::Signature::from_slice(sig).map_err(|_| CosignatureError::BadSignature)?;
    key.verify_strict(&signed_message(timestamp, checkpoint_text), &sig)
        .map_err(|_| CosignatureError::BadSignature)?;
    Ok(timestamp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::note::Note;

    const TEXT: &str = "example.com/log\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";

    #[test]
    fn cosign_and_verify() {
        let w = SignerKey::from_seed("witness.example", KeyType::Cosignature, [9; 32]).unwrap();
        let sig = cosign(&w, TEXT, 1_700_000_000).unwrap();
        assert_eq!(sig.signature.len(), COSIGNATURE_LEN);
        assert_eq!(verify(&w.verifier(), TEXT, &sig), Ok(1_700_000_000));
        // Through the note machinery too.
        let mut note = Note::new(TEXT).unwrap();
        note.add_signature(sig.clone()).unwrap();
        let parsed = Note::parse(&note.to_bytes()).unwrap();
        let v = w.verifier();
        assert_eq!(parsed.verify(&[&v]).unwrap().len(), 1);
        // Another text, another timestamp: both fail.
        assert_eq!(
            verify(
                &v,
                "example.com/log\n6\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
                &sig
            ),
            Err(CosignatureError::BadSignature)
        );
        let mut later = sig.clone();
        later.signature[7] ^= 1;
        assert_eq!(
            verify(&v, TEXT, &later),
            Err(CosignatureError::BadSignature)
        );
        let mut short = sig;
        short.signature.pop();
        assert_eq!(
            verify(&v, TEXT, &short),
            Err(CosignatureError::WrongLength(71))
        );
    }

    #[test]
    fn key_type_and_timestamp_limits() {
        let ed = SignerKey::from_seed("w", KeyType::Ed25519, [9; 32]).unwrap();
        assert!(matches!(
            cosign(&ed, TEXT, 1),
            Err(CosignatureError::Key(KeyError::WrongType { .. }))
        ));
        let w = SignerKey::from_seed("w", KeyType::Cosignature, [9; 32]).unwrap();
        assert_eq!(
            cosign(&w, TEXT, 1 << 63),
            Err(CosignatureError::TimestampTooLarge(1 << 63))
        );
        assert!(cosign(&w, TEXT, MAX_TIMESTAMP).is_ok());
    }
}
