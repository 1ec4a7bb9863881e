//! One `SSHSIG` signature (OpenSSH PROTOCOL.sshsig): parsed from its
//! armored form within bounds, and verified over a message under
//! attestlog's rules.

use ssh_key::public::KeyData;
use ssh_key::{Algorithm, EcdsaCurve, HashAlg, SshSig};

use super::NAMESPACE;

/// The largest armored signature accepted, in bytes. An RSA-4096
/// signature (the largest key `ssh-key` verifies) is about 1.5 KiB armored.
pub const MAX_SSH_SIGNATURE_SIZE: usize = 8 * 1024;

/// The smallest RSA modulus accepted, in bits.
pub const RSA_MIN_BITS: usize = 2048;
/// The largest RSA modulus accepted, in bits (the `rsa` crate's limit,
/// which bounds the work of one verification).
pub const RSA_MAX_BITS: usize = 4096;

/// The user-presence bit of a security-key signature's flags: the token
/// was touched.
pub const FLAG_USER_PRESENT: u8 = 0x01;
/// The user-verification bit: the token checked a PIN or biometric.
pub const FLAG_USER_VERIFIED: u8 = 0x04;

/// Why an `SSHSIG` signature is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SshSignatureError {
    /// Larger than [`MAX_SSH_SIGNATURE_SIZE`].
    #[error("SSH signature of {0} bytes is over the limit of {MAX_SSH_SIGNATURE_SIZE}")]
    TooLarge(usize),
    /// Not an armored `SSHSIG` signature `ssh-key` can decode.
    #[error("not an OpenSSH signature (-----BEGIN SSH SIGNATURE-----): {0}")]
    Malformed(String),
    /// Made for another namespace than [`NAMESPACE`].
    #[error("SSH signature is for namespace {found:?}, not {NAMESPACE:?} (sign with `ssh-keygen -Y sign -n {NAMESPACE}`)")]
    WrongNamespace {
        /// The signature's namespace.
        found: String,
    },
    /// A key or signature type attestlog does not accept.
    #[error("SSH signature algorithm {0} is not accepted (Ed25519, ECDSA P-256/P-384, RSA with SHA-2, and their security-key forms are)")]
    UnsupportedAlgorithm(String),
    /// An RSA key outside 2,048 to 4,096 bits.
    #[error("RSA key of {0} bits: attestlog accepts 2048 to 4096")]
    RsaKeySize(usize),
    /// The signature does not verify over the message with its key.
    #[error("SSH signature does not verify: {0}")]
    BadSignature(String),
    /// A security-key signature made without touching the token.
    #[error("security-key signature without user presence (flags {flags:#04x}): the token was not touched")]
    UserPresenceMissing {
        /// The signature's flags byte.
        flags: u8,
    },
}

/// The flags and counter a FIDO security key puts in each signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SecurityKeyFlags {
    /// The flags byte ([`FLAG_USER_PRESENT`], [`FLAG_USER_VERIFIED`]).
    pub flags: u8,
    /// The token's signature counter.
    pub counter: u32,
}

impl SecurityKeyFlags {
    /// Whether the token was touched.
    pub fn user_present(&self) -> bool {
        self.flags & FLAG_USER_PRESENT != 0
    }

    /// Whether the token verified a PIN or biometric.
    pub fn user_verified(&self) -> bool {
        self.flags & FLAG_USER_VERIFIED != 0
    }
}

/// A parsed `SSHSIG` signature, not yet verified.
#[derive(Clone, Debug)]
pub struct SshSignature {
    sig: SshSig,
}

/// A signature that verified: who signed, and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedSshSignature {
    /// The signer's public key.
    pub key: KeyData,
    /// The key's OpenSSH SHA-256 fingerprint (`SHA256:<base64>`), as
    /// `ssh-keygen -l` prints it.
    pub fingerprint: String,
    /// The signature algorithm's OpenSSH name (`ssh-ed25519`,
    /// `rsa-sha2-512`, `sk-ssh-ed25519@openssh.com`, ...).
    pub algorithm: String,
    /// For a security-key signature, its flags and counter.
    pub security_key: Option<SecurityKeyFlags>,
}

impl SshSignature {
    /// Parses an armored signature (`-----BEGIN SSH SIGNATURE-----`),
    /// refusing anything over [`MAX_SSH_SIGNATURE_SIZE`] before decoding.
    pub fn parse(armored: &[u8]) -> Result<SshSignature, SshSignatureError> {
        if armored.len() > MAX_SSH_SIGNATURE_SIZE {
            return Err(SshSignatureError::TooLarge(armored.len()));
        }
        let sig =
            SshSig::from_pem(armored).map_err(|e| SshSignatureError::Malformed(e.to_string()))?;
        Ok(SshSignature { sig })
    }

    /// The signer's public key, as the signature names it.
    pub fn public_key(&self) -> &KeyData {
        self.sig.public_key()
    }

    /// Verifies the signature over `message` under attestlog's rules: the
    /// namespace is [`NAMESPACE`], the algorithm is an accepted one, the
    /// signature verifies with the key it names, and a security-key
    /// signature has its user-presence flag set. Whether that key is
    /// trusted is the caller's question ([`super::AllowedSigners`]).
    pub fn verify(&self, message: &[u8]) -> Result<VerifiedSshSignature, SshSignatureError> {
        if self.sig.namespace() != NAMESPACE {
            return Err(SshSignatureError::WrongNamespace {
                found: self.sig.namespace().to_owned(),
            });
        }
        let algorithm = self.sig.algorithm();
        let key_algorithm = self.sig.public_key().algorithm();
        if !accepted(&algorithm) || !accepted(&key_algorithm) {
            return Err(SshSignatureError::UnsupportedAlgorithm(
                algorithm.as_str().to_owned(),
            ));
        }
        if let KeyData::Rsa(rsa) = self.sig.public_key() {
            let bits = rsa.n.as_positive_bytes().map_or(0, |n| {
                n.first()
                    .map_or(0, |top| n.len() * 8 - top.leading_zeros() as usize)
            });
            if !(RSA_MIN_BITS..=RSA_MAX_BITS).contains(&bits) {
                return Err(SshSignatureError::RsaKeySize(bits));
            }
        }
        // Both digests of PROTOCOL.sshsig are accepted; ssh-keygen writes
        // SHA-512.
        match self.sig.hash_alg() {
            HashAlg::Sha256 | HashAlg::Sha512 => {}
            other => {
                return Err(SshSignatureError::UnsupportedAlgorithm(format!(
                    "hash {}",
                    other.as_str()
                )))
            }
        }
        let key = ssh_key::PublicKey::from(self.sig.public_key().clone());
        key.verify(NAMESPACE, message, &self.sig)
            .map_err(|e| SshSignatureError::BadSignature(e.to_string()))?;
        let security_key = security_key_flags(&self.sig);
        if let Some(sk) = security_key {
            if !sk.user_present() {
                return Err(SshSignatureError::UserPresenceMissing { flags: sk.flags });
            }
        }
        Ok(VerifiedSshSignature {
            fingerprint: key.fingerprint(HashAlg::Sha256).to_string(),
            key: key.key_data().clone(),
            algorithm: algorithm.as_str().to_owned(),
            security_key,
        })
    }
}

/// The key and signature types attestlog accepts: no DSA, no SHA-1 RSA
/// (`ssh-rsa` signatures do not even decode), no P-521 (not required by
/// any FIDO token, and not asked for).
fn accepted(algorithm: &Algorithm) -> bool {
    matches!(
        algorithm,
        Algorithm::Ed25519
            | Algorithm::SkEd25519
            | Algorithm::SkEcdsaSha2NistP256
            | Algorithm::Ecdsa {
                curve: EcdsaCurve::NistP256 | EcdsaCurve::NistP384
            }
            // A key is `ssh-rsa` whatever it signs with; a signature names
            // its SHA-2 hash.
            | Algorithm::Rsa { .. }
    )
}

/// A security-key signature's flags and counter: `ssh-key` keeps them as
/// the last five bytes of the signature data (flags, then the counter,
/// big-endian), as the wire format has them after the signature blob.
fn security_key_flags(sig: &SshSig) -> Option<SecurityKeyFlags> {
    match sig.algorithm() {
        Algorithm::SkEd25519 | Algorithm::SkEcdsaSha2NistP256 => {
            let data = sig.signature_bytes();
            let trailer = data.get(data.len().checked_sub(5)?..)?;
            Some(SecurityKeyFlags {
                flags: trailer[0],
                counter: u32::from_be_bytes([trailer[1], trailer[2], trailer[3], trailer[4]]),
            })
        }
        _ => None,
    }
}
