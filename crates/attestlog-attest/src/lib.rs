//! OpenPGP-signed build attestations: what attestlog logs, and how it checks
//! a submission before appending it.
//!
//! In scope: the accepted statement formats ([`statement`]: in-toto
//! Statement v1 with attestlog's reproducible-build [`predicate`], and the
//! containers/image [`simple_signing`] payload), the OpenPGP input forms
//! ([`openpgp_input`]: detached, inline-signed, cleartext), the signature
//! rules ([`signature_check`]), the canonical [`leaf`] encoding, admission
//! [`admission_policy`] with a reloadable [`keyring`], and the [`verify`] entry points
//! with the index keys the log needs.
//!
//! Out of scope: storage, networking, rate limiting (the server's), and the
//! Merkle tree (the core crate's; this crate only calls its leaf hash).
//! Time is a parameter everywhere except [`Verifier::verify_now`].
//!
//! OpenPGP is Sequoia's, with its pure-Rust crypto backend (no C library to
//! build or audit; constant-time where its RustCrypto primitives are).
//!
//! The byte-level specification of all this is `docs/SPEC.md`, section
//! "Attestations".

pub mod admission_policy;
mod cert_cache;
pub mod certificate;
pub mod error;
pub mod keyring;
pub mod leaf;
pub mod openpgp_input;
pub mod predicate;
pub mod signature_check;
pub mod simple_signing;
pub mod ssh;
pub mod statement;
mod strict_json;
pub mod verify;

pub use admission_policy::AdmissionPolicy;
pub use cert_cache::{CERT_CACHE_BYTES, CERT_CACHE_ENTRIES};
pub use certificate::{
    merge_stored, parse_stored, stored_view, MAX_CERT_SUBKEYS, MAX_CERT_USER_IDS,
    MAX_SELF_SIGNATURES_PER_COMPONENT,
};
pub use error::AttestError;
pub use keyring::Keyring;
pub use leaf::{Leaf, LEAF_VERSION, LEAF_VERSION_1};
pub use predicate::{ReproducibleBuild, REPRODUCIBLE_BUILD_V1};
pub use signature_check::MAX_CLOCK_SKEW;
pub use simple_signing::SimpleSigning;
pub use statement::{InTotoStatement, Predicate, Statement, Subject, IN_TOTO_STATEMENT_V1};
pub use verify::{
    leaf_keys, verify_leaf, verify_leaf_shared, AttestationInput, IndexKeys, LeafKeys,
    VerifiedAttestation, Verifier,
};

/// Sequoia, re-exported so that callers name the same `Cert` and
/// `Fingerprint` types without a version mismatch.
pub use sequoia_openpgp as openpgp;

/// The largest leaf, in bytes: 64 KiB − 1, because C2SP tlog-tiles entry
/// bundles prefix each entry with a big-endian u16 length.
pub const MAX_ENTRY_SIZE: usize = 65_535;

/// The largest certificate accepted in a submission, in bytes (64 KiB).
pub const MAX_CERT_SIZE: usize = 65_536;

/// The most subjects one statement may name.
pub const MAX_SUBJECTS: usize = 64;

/// The most signatures one submission may carry (each costs a verification).
pub const MAX_SIGNATURES: usize = 8;

/// The largest payload (statement, or signed message) accepted before
/// de-armoring, in bytes: room for an armored or dash-escaped message whose
/// statement still fits in a leaf.
pub const MAX_PAYLOAD_SIZE: usize = 4 * 65_536;

/// The largest detached-signature input, in bytes.
pub const MAX_SIGNATURE_INPUT_SIZE: usize = 65_536;
