//! Note keys and their string forms (C2SP signed-note).
//!
//! ```text
//! key ID        = SHA-256(name || "\n" || type || public key)[0..4], big-endian u32
//! verifier key  = name "+" hex8(key ID) "+" base64(type || public key)
//! signer key    = "PRIVATE+KEY+" name "+" hex8(key ID) "+" base64(type || seed)
//! ```
//!
//! Two key types are implemented, both over Ed25519 (RFC 8032):
//! [`KeyType::Ed25519`] (0x01) signs the note text itself, and
//! [`KeyType::Cosignature`] (0x04, C2SP tlog-cosignature) signs a
//! timestamped message about a checkpoint; see [`crate::cosignature`].

use base64::Engine as _;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use rand_core::CryptoRngCore;
use sha2::{Digest, Sha256};

use super::{check_key_name, NoteError, NoteSignature, NoteVerifier};
use crate::cosignature;

/// Why a key string could not be parsed or a key not be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The string does not have the `name+hexid+base64` shape.
    #[error("malformed key string: {0}")]
    Malformed(&'static str),
    /// The key name is invalid.
    #[error(transparent)]
    BadName(#[from] NoteError),
    /// The key type byte is not one this crate implements.
    #[error(
        "unsupported key type 0x{0:02x}; supported are 0x01 (Ed25519) and 0x04 (cosignature/v1)"
    )]
    UnsupportedType(u8),
    /// The key bytes are not a valid Ed25519 key.
    #[error("invalid Ed25519 key")]
    BadKey,
    /// The key ID written in the string is not the one the key implies.
    #[error("key ID {written:08x} does not match the key, whose ID is {computed:08x}")]
    KeyIdMismatch {
        /// The ID in the string.
        written: u32,
        /// The ID computed from name, type and key.
        computed: u32,
    },
    /// The operation needs another key type (e.g. a cosignature key used to
    /// sign a note text directly).
    #[error("this operation needs a key of type 0x{expected:02x}, not 0x{got:02x}")]
    WrongType {
        /// The type the operation needs.
        expected: u8,
        /// The key's type.
        got: u8,
    },
}

/// The signature algorithms of note keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyType {
    /// 0x01: Ed25519 over the note text.
    Ed25519,
    /// 0x04: C2SP tlog-cosignature `cosignature/v1`, Ed25519 over a
    /// timestamped message that contains the checkpoint.
    Cosignature,
}

impl KeyType {
    /// The type byte.
    pub fn byte(self) -> u8 {
        match self {
            KeyType::Ed25519 => 0x01,
            KeyType::Cosignature => 0x04,
        }
    }

    /// The key type of a type byte.
    pub fn from_byte(b: u8) -> Result<KeyType, KeyError> {
        match b {
            0x01 => Ok(KeyType::Ed25519),
            0x04 => Ok(KeyType::Cosignature),
            other => Err(KeyError::UnsupportedType(other)),
        }
    }
}

/// Computes a key ID: the first four bytes of
/// SHA-256(name || "\n" || type || public key), as a big-endian integer.
pub fn key_id(name: &str, key_type: u8, public_key: &[u8]) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([key_type]);
    h.update(public_key);
    let d = h.finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// Splits `name+hexid+base64` and checks name and ID shape.
fn split_key_string(s: &str) -> Result<(&str, u32, Vec<u8>), KeyError> {
    let mut parts = s.splitn(3, '+');
    let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(KeyError::Malformed("expected name+hexid+base64"));
    };
    check_key_name(name)?;
    if id.len() != 8 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(KeyError::Malformed("key ID is not 8 hexadecimal digits"));
    }
    let written = u32::from_str_radix(id, 16)
        .map_err(|_| KeyError::Malformed("key ID is not hexadecimal"))?;
    let blob = b64()
        .decode(key)
        .map_err(|_| KeyError::Malformed("key is not standard base64"))?;
    if blob.is_empty() {
        return Err(KeyError::Malformed("key is empty"));
    }
    Ok((name, written, blob))
}

/// A public note key: name, type and Ed25519 verifying key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifierKey {
    name: String,
    key_type: KeyType,
    key: VerifyingKey,
    id: u32,
}

impl VerifierKey {
    /// Builds a verifier from its parts; the name must be valid.
    pub fn new(name: &str, key_type: KeyType, key: VerifyingKey) -> Result<VerifierKey, KeyError> {
        check_key_name(name)?;
        Ok(VerifierKey {
            id: key_id(name, key_type.byte(), key.as_bytes()),
            name: name.to_owned(),
            key_type,
            key,
        })
    }

    /// Parses a verifier key string `name+hexid+base64(type||key)`.
    pub fn parse(s: &str) -> Result<VerifierKey, KeyError> {
        let (name, written, blob) = split_key_string(s)?;
        let key_type = KeyType::from_byte(blob[0])?;
        let bytes: [u8; 32] = blob[1..].try_into().map_err(|_| KeyError::BadKey)?;
        let key = VerifyingKey::from_bytes(&bytes).map_err(|_| KeyError::BadKey)?;
        let v = VerifierKey::new(name, key_type, key)?;
        if v.id != written {
            return Err(KeyError::KeyIdMismatch {
                written,
                computed: v.id,
            });
        }
        Ok(v)
    }

    /// The key string `name+hexid+base64(type||key)`.
    pub fn to_key_string(&self) -> String {
        let mut blob = vec![self.key_type.byte()];
        blob.extend_from_slice(self.key.as_bytes());
        format!("{}+{:08x}+{}", self.name, self.id, b64().encode(blob))
    }

    /// The key's type.
    pub fn key_type(&self) -> KeyType {
        self.key_type
    }

    /// The Ed25519 public key.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.key
    }
}

impl NoteVerifier for VerifierKey {
    fn name(&self) -> &str {
        &self.name
    }

    fn key_id(&self) -> u32 {
        self.id
    }

    fn verify(&self, text: &str, signature: &[u8]) -> bool {
        match self.key_type {
            KeyType::Ed25519 => {
                let Ok(sig) = ed25519_dalek::Signature::from_slice(signature) else {
                    return false;
                };
                self.key.verify_strict(text.as_bytes(), &sig).is_ok()
            }
            KeyType::Cosignature => cosignature::verify_raw(&self.key, text, signature).is_ok(),
        }
    }
}

/// A private note key. Its [`std::fmt::Debug`] form hides the secret.
#[derive(Clone)]
pub struct SignerKey {
    name: String,
    key_type: KeyType,
    key: SigningKey,
    id: u32,
}

impl std::fmt::Debug for SignerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignerKey")
            .field("name", &self.name)
            .field("key_type", &self.key_type)
            .field("id", &format_args!("{:08x}", self.id))
            .finish_non_exhaustive()
    }
}

impl SignerKey {
    /// Generates a new key from a cryptographic random source.
    pub fn generate(
        name: &str,
        key_type: KeyType,
        rng: &mut impl CryptoRngCore,
    ) -> Result<SignerKey, KeyError> {
        let mut seed = [0u8; 32];
        rng.fill_bytes(&mut seed);
        SignerKey::from_seed(name, key_type, seed)
    }

    /// Builds a key from its 32-byte Ed25519 seed.
    pub fn from_seed(name: &str, key_type: KeyType, seed: [u8; 32]) -> Result<SignerKey, KeyError> {
        check_key_name(name)?;
        let key = SigningKey::from_bytes(&seed);
        Ok(SignerKey {
            id: key_id(name, key_type.byte(), key.verifying_key().as_bytes()),
            name: name.to_owned(),
            key_type,
            key,
        })
    }

    /// Parses a signer key string `PRIVATE+KEY+name+hexid+base64(type||seed)`.
    pub fn parse(s: &str) -> Result<SignerKey, KeyError> {
        let rest = s
            .strip_prefix("PRIVATE+KEY+")
            .ok_or(KeyError::Malformed("signer keys start with PRIVATE+KEY+"))?;
        let (name, written, blob) = split_key_string(rest)?;
        let key_type = KeyType::from_byte(blob[0])?;
        let seed: [u8; 32] = blob[1..].try_into().map_err(|_| KeyError::BadKey)?;
        let k = SignerKey::from_seed(name, key_type, seed)?;
        if k.id != written {
            return Err(KeyError::KeyIdMismatch {
                written,
                computed: k.id,
            });
        }
        Ok(k)
    }

    /// The key string `PRIVATE+KEY+name+hexid+base64(type||seed)`. Treat it
    /// as a secret.
    pub fn to_key_string(&self) -> String {
        let mut blob = vec![self.key_type.byte()];
        blob.extend_from_slice(self.key.as_bytes());
        format!(
            "PRIVATE+KEY+{}+{:08x}+{}",
            self.name,
            self.id,
            b64().encode(blob)
        )
    }

    /// The matching public key.
    pub fn verifier(&self) -> VerifierKey {
        VerifierKey {
            name: self.name.clone(),
            key_type: self.key_type,
            key: self.key.verifying_key(),
            id: self.id,
        }
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key ID.
    pub fn key_id(&self) -> u32 {
        self.id
    }

    /// The key's type.
    pub fn key_type(&self) -> KeyType {
        self.key_type
    }

    /// Signs a note text with an Ed25519 (0x01) key. Cosignature keys sign
    /// through [`crate::cosignature::cosign`] instead.
    pub fn sign(&self, text: &str) -> Result<NoteSignature, KeyError> {
        if self.key_type != KeyType::Ed25519 {
            return Err(KeyError::WrongType {
                expected: KeyType::Ed25519.byte(),
                got: self.key_type.byte(),
            });
        }
        Ok(NoteSignature {
            name: self.name.clone(),
            key_id: self.id,
            signature: self.key.sign(text.as_bytes()).to_bytes().to_vec(),
        })
    }

    /// The Ed25519 signing key, for the cosignature module.
    pub(crate) fn signing_key(&self) -> &SigningKey {
        &self.key
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_strings_round_trip() {
        for t in [KeyType::Ed25519, KeyType::Cosignature] {
            let k = SignerKey::from_seed("example.com/w1", t, [7; 32]).unwrap();
            let again = SignerKey::parse(&k.to_key_string()).unwrap();
            assert_eq!(again.to_key_string(), k.to_key_string());
            let v = VerifierKey::parse(&k.verifier().to_key_string()).unwrap();
            assert_eq!(v, k.verifier());
        }
    }

    #[test]
    fn key_string_errors() {
        let k = SignerKey::from_seed("a", KeyType::Ed25519, [1; 32]).unwrap();
        let s = k.verifier().to_key_string();
        let (name, rest) = s.split_once('+').unwrap();
        assert!(matches!(
            VerifierKey::parse(&format!("{name}x+{rest}")),
            Err(KeyError::KeyIdMismatch { .. })
        ));
        assert!(matches!(
            VerifierKey::parse("a+0000000+AQ=="),
            Err(KeyError::Malformed(_))
        ));
        assert!(matches!(
            VerifierKey::parse(&format!("a+00000000+{}", b64().encode([2u8; 33]))),
            Err(KeyError::UnsupportedType(2))
        ));
        assert!(matches!(
            VerifierKey::parse(&format!("a+00000000+{}", b64().encode([1u8; 5]))),
            Err(KeyError::BadKey)
        ));
        assert!(matches!(SignerKey::parse(&s), Err(KeyError::Malformed(_))));
        let cos = SignerKey::from_seed("a", KeyType::Cosignature, [1; 32]).unwrap();
        assert!(matches!(cos.sign("t\n"), Err(KeyError::WrongType { .. })));
        assert_ne!(cos.key_id(), k.key_id(), "the type is part of the key ID");
    }
}
