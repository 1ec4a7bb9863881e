//! The pure core of attestlog: every format and algorithm that the log, the
//! witness and the client share.
//!
//! In scope: RFC 9162 Merkle hashing and proofs ([`hash`], [`tree`],
//! [`frontier`], [`proof`]), C2SP signed notes ([`note`]), checkpoints
//! ([`checkpoint`]), `cosignature/v1` witness cosignatures ([`cosignature`]),
//! and tlog-tiles coordinates, paths, tile hashing and entry bundles
//! ([`tile`]).
//! Also the C2SP tlog-witness wire format ([`witness_protocol`]), C2SP
//! tlog-policy ([`tlog_policy`]), split-view evidence ([`evidence`]) and the text
//! grammar all formats share: canonical decimals, lower-case hex ([`text`]).
//!
//! Out of scope, by design: I/O of any kind (files, network, clocks: the
//! caller passes the time), async runtimes, storage, OpenPGP. Randomness is
//! taken as a parameter ([`rand_core::CryptoRngCore`]) so that key generation
//! stays testable. Everything here is deterministic and free of `unsafe`
//! (the workspace lints forbid it).

pub mod checkpoint;
pub mod cosignature;
pub mod evidence;
pub mod frontier;
pub mod hash;
pub mod note;
pub mod proof;
pub mod text;
pub mod tile;
pub mod tlog_policy;
pub mod tree;
pub mod witness_protocol;

#[cfg(test)]
mod rs_merkle_oracle;

pub use frontier::Frontier;
pub use hash::{leaf_hash, node_hash, Hash};
pub use rand_core;
