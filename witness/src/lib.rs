//! attestlog's witness: it cosigns checkpoints of the logs it follows when
//! they are consistent with everything it cosigned before (C2SP
//! tlog-witness, `cosignature/v1`), gossips checkpoints with other
//! witnesses, and records split-view evidence when a log shows two
//! histories.
//!
//! In scope: the witness's rules ([`witness`]), its own RocksDB state ([`state`]), the
//! HTTP API ([`http`]), gossip ([`gossip`], [`client`], and the logs'
//! tiles, [`LogTiles`]), configuration ([`config`]) and metrics
//! ([`metrics`]). Formats and proofs, the tlog-witness wire format among them
//! (`attestlog_core::witness_protocol`), come from `attestlog-core`, the tile
//! reader from `attestlog-http`; the witness never depends on the log server
//! or its store. The binary `attestlog-witness` only parses arguments and
//! wires these together.

pub mod client;
pub mod config;
pub mod error;
pub mod gossip;
pub mod http;
pub mod metrics;
pub mod state;
pub mod witness;

pub use error::WitnessError;
pub use witness::{Cosigned, LogTiles, Observation, TreeSource, Witness};
