//! OpenSSH signatures: `SSHSIG` signatures over attestlog statements, made
//! by `ssh-keygen -Y sign -n attestlog` with a software key or a FIDO
//! security key, and OpenSSH's `allowed_signers` files that say whose
//! keys count (docs/SPEC.md §6.10).
//!
//! The wire formats are RustCrypto's `ssh-key` crate's; this module adds
//! the rules attestlog applies on top: the fixed namespace
//! ([`NAMESPACE`]), the accepted key types, user presence for security
//! keys, and input bounds.
//!
//! In scope: parsing and verifying one signature ([`sshsig`]), parsing an
//! `allowed_signers` file and finding the principals a key may sign for
//! ([`allowed_signers`]). Out of scope (for now): the leaf format and
//! admission, which still take OpenPGP signatures only.

pub mod allowed_signers;
pub mod sshsig;

pub use allowed_signers::{AllowedSigner, AllowedSigners, AllowedSignersError};
pub use sshsig::{SecurityKeyFlags, SshSignature, SshSignatureError, VerifiedSshSignature};

/// The `SSHSIG` namespace of every attestlog signature: what `ssh-keygen
/// -Y sign -n` is given. A signature made for another namespace (`git`,
/// `file`) is never accepted, so a signature made for one purpose cannot
/// be replayed as another.
pub const NAMESPACE: &str = "attestlog";
