//! attestlog's witness: it cosigns checkpoints of the logs it follows when
//! they are consistent with everything it cosigned before (C2SP
//! tlog-witness, `cosignature/v1`), gossips checkpoints with other
//! witnesses, and records split-view evidence when a log shows two
//! histories.
//!
//! In scope: the tlog-witness wire format ([`add_checkpoint`]), the
//! witness's rules ([`witness`]), its own RocksDB state ([`state`]), the
//! HTTP API ([`http`]), gossip ([`gossip`], [`tiles`], [`client`]),
//! configuration ([`config`]) and metrics ([`metrics`]). Formats and proofs
//! come from `attestlog-core`; the witness never depends on the log server
//! or its store. The binary `attestlog-witness` only parses arguments and
//! wires these together.

pub mod add_checkpoint;
pub mod client;
pub mod config;
pub mod error;
pub mod gossip;
pub mod http;
pub mod metrics;
pub mod state;
pub mod tiles;
pub mod witness;

pub use error::WitnessError;
pub use witness::{Cosigned, Observation, TreeSource, Witness};
