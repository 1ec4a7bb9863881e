//! The one error type of this crate.
//!
//! Every reason the log refuses a submission, fails to decode a leaf or
//! fails to load a keyring is its own variant, so that the server can map
//! each to a status in one `match` and a maintainer reading the message
//! knows what to change. Messages name the failure first and, where there
//! is one, the fix.

use std::path::PathBuf;

use sequoia_openpgp::types::SignatureType;
use sequoia_openpgp::{Fingerprint, KeyHandle};

/// Why a submission, a leaf or a keyring was rejected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AttestError {
    // ----- Sizes and counts -------------------------------------------
    /// One field of the submission is larger than the log accepts.
    #[error("the {field} is {size} bytes, more than the {max} bytes the log accepts")]
    InputTooLarge {
        /// Which field: "payload", "signature" or "certificate".
        field: &'static str,
        /// Its size in bytes.
        size: usize,
        /// The limit in bytes.
        max: usize,
    },
    /// The canonical leaf would exceed [`crate::MAX_ENTRY_SIZE`].
    #[error(
        "the entry would be {size} bytes, more than the {max} bytes a tlog-tiles entry can hold; \
         shorten the statement"
    )]
    EntryTooLarge {
        /// The size the leaf would have.
        size: usize,
        /// [`crate::MAX_ENTRY_SIZE`].
        max: usize,
    },
    /// The statement names more subjects than [`crate::MAX_SUBJECTS`].
    #[error("the statement has {count} subjects, more than the {max} allowed; split it")]
    TooManySubjects {
        /// How many subjects the statement has.
        count: usize,
        /// [`crate::MAX_SUBJECTS`].
        max: usize,
    },
    /// The submission carries more signatures than [`crate::MAX_SIGNATURES`].
    #[error("the submission carries {count} signatures, more than the {max} allowed")]
    TooManySignatures {
        /// How many signatures were found.
        count: usize,
        /// [`crate::MAX_SIGNATURES`].
        max: usize,
    },

    // ----- OpenPGP framing --------------------------------------------
    /// The detached signature is not a sequence of OpenPGP signature packets.
    #[error("the detached signature is not a valid OpenPGP signature: {reason}")]
    MalformedSignature {
        /// What the parser found.
        reason: String,
    },
    /// The inline-signed message is not a valid OpenPGP message.
    #[error("the signed message is not a valid OpenPGP message: {reason}")]
    MalformedMessage {
        /// What the parser found.
        reason: String,
    },
    /// The message is encrypted; attestations must be signed only.
    #[error("the message is encrypted; submit a signed, unencrypted statement")]
    EncryptedMessage,
    /// The message or detached signature contains no signature at all.
    #[error("no signature found; sign the statement (gpg --detach-sign, --sign or --clearsign)")]
    NoSignature,
    /// The message has more than one signature layer (a signed message
    /// inside a signed message).
    #[error(
        "the message has more than one signature layer (a signed message was signed again); \
         sign the statement itself"
    )]
    NestedSignatures,
    /// The message's packet structure is beyond what an attestation needs
    /// (too many packets, nested compression, Marker or Padding packets);
    /// see [`crate::openpgp_input`].
    #[error("the signed message is refused: {reason}; sign the statement with gpg --sign or --detach-sign")]
    MessageTooComplex {
        /// Which bound was hit.
        reason: String,
    },
    /// Checking the submission took longer than the caller's time budget.
    #[error(
        "checking the submission took longer than the log allows; submit a plain signed statement"
    )]
    BudgetExceeded,
    /// The signature was made too long before the log's time (a backdated
    /// signature, or one from a key retired long ago).
    #[error(
        "the signature was made at {created} (Unix seconds), more than {max_age_secs} s before the \
         log's time {now}; sign the statement again"
    )]
    SignatureTooOld {
        /// The signature's creation time, Unix seconds.
        created: u64,
        /// The log's time, Unix seconds.
        now: u64,
        /// The largest accepted age, seconds.
        max_age_secs: u64,
    },

    // ----- Certificates -----------------------------------------------
    /// The certificate bytes do not parse as one OpenPGP certificate.
    #[error("the certificate is not a valid OpenPGP transferable public key: {reason}")]
    MalformedCertificate {
        /// What the parser found.
        reason: String,
    },
    /// Under the `open` admission policy the certificate must be included.
    #[error("the signer's certificate is required (the log admits any key, so it must see it)")]
    CertificateRequired,
    /// Under the `keyring` admission policy the signer is not in the keyring.
    #[error(
        "signer {issuer} is not in the log's keyring; ask the operator to add the certificate"
    )]
    UnknownSigner {
        /// The issuer named by the signature (or the submitted certificate).
        issuer: KeyHandle,
    },
    /// The certificate does not contain the key that made the signature.
    #[error("the certificate {certificate} does not contain the signing key {issuer}")]
    KeyNotInCertificate {
        /// The issuer named by the signature.
        issuer: KeyHandle,
        /// The primary fingerprint of the certificate that was searched.
        certificate: Fingerprint,
    },
    /// The certificate was not valid under the policy when the signature was
    /// made (no valid self-signature at that time, or a weak algorithm).
    #[error("certificate {fingerprint} was not valid when the signature was made: {reason}")]
    CertificateInvalid {
        /// The primary fingerprint.
        fingerprint: Fingerprint,
        /// Sequoia's reason.
        reason: String,
    },
    /// The signing subkey was not validly bound to the certificate when the
    /// signature was made.
    #[error(
        "signing key {fingerprint} was not validly bound when the signature was made: {reason}"
    )]
    SigningKeyInvalid {
        /// The signing key's fingerprint.
        fingerprint: Fingerprint,
        /// Sequoia's reason.
        reason: String,
    },
    /// The primary key or the signing subkey had expired when the signature
    /// was made.
    #[error(
        "key {fingerprint} had expired when the signature was made; extend its expiry and re-sign"
    )]
    KeyExpired {
        /// The expired key.
        fingerprint: Fingerprint,
    },
    /// The primary key or the signing subkey is revoked: by a hard revocation
    /// (retroactive) or by a soft one older than the signature.
    #[error("key {fingerprint} is revoked ({reason}){}", if *hard { "; a hard revocation invalidates all its signatures" } else { "" })]
    KeyRevoked {
        /// The revoked key.
        fingerprint: Fingerprint,
        /// The reason code and message from the revocation.
        reason: String,
        /// Whether the revocation is hard (compromised or unspecified).
        hard: bool,
    },
    /// The key that made the signature is not signing-capable.
    #[error("key {fingerprint} is not marked for signing; sign with a signing-capable (sub)key")]
    NotSigningCapable {
        /// The key without the signing flag.
        fingerprint: Fingerprint,
    },

    // ----- Signatures -------------------------------------------------
    /// The signature is not a signature over a document (binary or text).
    #[error("the signature has type {signature_type}, not a binary or text document signature")]
    NotADataSignature {
        /// The signature's type.
        signature_type: SignatureType,
    },
    /// The signature uses SHA-1.
    #[error(
        "the signature uses SHA-1, which is rejected since 2023 — \
         re-sign with SHA-256 or better (gpg --digest-algo SHA256)"
    )]
    Sha1Signature,
    /// The signature is otherwise rejected by the standard policy (weak hash,
    /// unknown critical subpacket, ...).
    #[error("the signature is rejected by policy: {reason}")]
    SignatureRejectedByPolicy {
        /// Sequoia's reason.
        reason: String,
    },
    /// The signature has no creation time.
    #[error("the signature has no creation time")]
    MissingCreationTime,
    /// The signature claims a creation time too far ahead of the log's clock.
    #[error(
        "the signature is dated {created} (Unix seconds), more than {tolerance_secs} s \
         after the log's time {now}; check the signing machine's clock"
    )]
    FutureSignature {
        /// The signature's creation time, Unix seconds.
        created: u64,
        /// The log's time, Unix seconds.
        now: u64,
        /// The accepted clock skew, seconds.
        tolerance_secs: u64,
    },
    /// The signature's own validity period has ended.
    #[error("the signature expired at {expired_at} (Unix seconds)")]
    SignatureExpired {
        /// When the signature expired, Unix seconds.
        expired_at: u64,
    },
    /// The signature does not verify over the statement bytes.
    #[error(
        "the signature by {fingerprint} does not match the statement: the statement was changed \
         after signing, or the signature belongs to another file ({reason})"
    )]
    BadSignature {
        /// The key that was tried.
        fingerprint: Fingerprint,
        /// Sequoia's reason.
        reason: String,
    },
    /// None of several signatures verified.
    #[error("none of the {count} signatures verified; the first failed: {first}")]
    NoGoodSignature {
        /// How many signatures were tried.
        count: usize,
        /// Why the first one failed.
        first: Box<AttestError>,
    },

    // ----- Statements -------------------------------------------------
    /// The statement is not strict JSON (syntax, duplicate keys, encoding).
    #[error("the statement is not valid JSON: {reason}")]
    StatementNotJson {
        /// The JSON parser's reason.
        reason: String,
    },
    /// The statement is JSON but neither an in-toto Statement v1 nor a
    /// simple-signing payload, or it violates their schema.
    #[error("the statement is not a valid in-toto Statement v1: {reason}")]
    InvalidStatement {
        /// What is wrong.
        reason: String,
    },
    /// The simple-signing ("atomic container signature") payload is invalid.
    #[error("the payload is not a valid atomic container signature: {reason}")]
    InvalidSimpleSigning {
        /// What is wrong.
        reason: String,
    },
    /// The reproducible-build predicate is invalid.
    #[error("the reproducible-build predicate is invalid: {reason}")]
    InvalidPredicate {
        /// What is wrong.
        reason: String,
    },
    /// The statement has no subject.
    #[error("the statement has no subject")]
    NoSubjects,
    /// A subject has no sha256 digest.
    #[error("subject {name:?} has no sha256 digest; the log indexes by sha256")]
    MissingSha256 {
        /// The subject's name.
        name: String,
    },
    /// A subject's sha256 digest is not 64 lowercase hex digits.
    #[error(
        "subject {name:?} has a malformed sha256 digest {value:?} (want 64 lowercase hex digits)"
    )]
    MalformedDigest {
        /// The subject's name.
        name: String,
        /// The digest value as given.
        value: String,
    },

    // ----- Leaf decoding ----------------------------------------------
    /// The leaf ended before a field was complete.
    #[error("the leaf is truncated in field {field}")]
    LeafTruncated {
        /// The field being read.
        field: &'static str,
    },
    /// The leaf's version byte is not one this crate knows.
    #[error("unsupported leaf version {0}")]
    LeafUnsupportedVersion(u8),
    /// A fingerprint in the leaf has an unknown version byte.
    #[error("unsupported fingerprint version {0} in leaf")]
    LeafFingerprintVersion(u8),
    /// A required leaf field is empty.
    #[error("leaf field {field} is empty")]
    LeafEmptyField {
        /// The empty field.
        field: &'static str,
    },
    /// Bytes follow the last field of the leaf.
    #[error("{extra} trailing bytes after the leaf")]
    LeafTrailingBytes {
        /// How many bytes follow.
        extra: usize,
    },
    /// A re-verified leaf does not re-encode to the same bytes.
    #[error("the leaf is not in canonical form: {reason}")]
    LeafNotCanonical {
        /// Which part differs.
        reason: String,
    },

    // ----- Keyring and clock ------------------------------------------
    /// The keyring file or directory could not be read.
    #[error("cannot read keyring {path}: {source}")]
    KeyringIo {
        /// The path that failed.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A keyring file does not parse as OpenPGP certificates.
    #[error("keyring file {path} is not a valid OpenPGP keyring: {reason}")]
    KeyringCertificate {
        /// The offending file.
        path: PathBuf,
        /// The parser's reason.
        reason: String,
    },
    /// The keyring holds no certificate at all (almost certainly a
    /// misconfiguration: nobody could submit).
    #[error("keyring {path} contains no certificates")]
    KeyringEmpty {
        /// The configured path.
        path: PathBuf,
    },
    /// The injected clock is outside the range OpenPGP can represent.
    #[error("the time {0:?} is outside the OpenPGP time range (1970..2106)")]
    TimeOutOfRange(std::time::SystemTime),
}
