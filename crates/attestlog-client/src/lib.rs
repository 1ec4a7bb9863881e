//! The attestlog client library: what a package manager or installer
//! embeds to decide whether an artifact is trustworthy.
//!
//! In scope:
//! * [`artifact`]: the whole decision `attestlog verify` makes, online
//!   ([`artifact::verify_online`]) or from a bundle
//!   ([`artifact::verify_offline`]), for an embedder to call as it is;
//! * [`tlog_policy`]: C2SP tlog-policy files (which logs and witnesses, and the
//!   witness quorum), and [`witnessed`]: checking a cosigned checkpoint
//!   against one;
//! * [`quorum`] and [`report`]: the reproducible-build quorum check — at
//!   least M distinct trusted maintainers attested this exact digest, in
//!   entries proven to be in the log — and its outcome in plain words;
//! * [`online`] (over [`grpc`], the log's API, and its HTTP tiles, read
//!   with `attestlog_http::tiles`) and offline [`bundle`]s of
//!   [`tlog_proof`]s;
//! * [`state`]: the latest verified checkpoint per log, rollback and fork
//!   detection with split-view evidence;
//! * [`monitor`]: following a log and alerting on watched keys and names;
//! * [`submit`]: submitting an attestation and checking that the log's
//!   answer proves it was logged, under a checkpoint of the trusted log;
//! * [`trust_file`]: the maintainers file (keyring and threshold);
//! * `wot` (feature `wot`, default): authenticating signers' certificates
//!   from trust roots through the web of trust (sequoia-wot).
//!
//! Out of scope: command-line parsing, progress bars and printing (the
//! `attestlog` binary, built with the default `cli` feature; with
//! `default-features = false` none of its dependencies is compiled),
//! running a log or a witness (never a dependency of this crate), and
//! OpenPGP signing: maintainers sign with their own tools.

pub mod artifact;
pub mod bundle;
pub mod error;
pub mod grpc;
pub mod monitor;
pub mod online;
/// C2SP tlog-policy, from the core crate (shared with the log server).
pub use attestlog_core::tlog_policy;
pub mod quorum;
pub mod report;
pub mod state;
pub mod submit;
pub mod tlog_proof;
pub mod trust_file;
pub mod witnessed;
#[cfg(feature = "wot")]
pub mod wot;

pub use error::ClientError;
