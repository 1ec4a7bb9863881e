//! The log as objects in an S3-compatible bucket.
//!
//! The log server publishes its tree to a bucket as a static C2SP
//! tlog-tiles log ([`layout`]: the checkpoint, hash tiles, entry bundles,
//! and the certificates it stores), `restore` rebuilds a data directory
//! from one, and read replicas follow one. This crate is what they share:
//! where each object goes ([`layout`]), the bucket's settings and
//! credentials ([`config`]), reads bounded in size and time and writes
//! ([`Bucket`]), and the HTTP connector the `object_store` client runs on
//! ([`connector`]).
//!
//! Out of scope: what is published when (the server's publisher), and
//! checking what is read (the reader verifies every checkpoint's signature
//! and recomputes roots; this crate only moves bytes).

pub mod config;
pub mod connector;
pub mod layout;

mod bucket;

pub use bucket::{Bucket, BucketError, Object};
pub use config::{BucketConfig, Credentials};
