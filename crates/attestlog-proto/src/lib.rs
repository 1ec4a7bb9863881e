//! attestlog's gRPC types and service stubs, generated from
//! `proto/attestlog/v1/log.proto`.
//!
//! In scope: the generated code and the descriptor set for reflection.
//! Out of scope: conversion to domain types, which happens at the gRPC
//! boundary in the server and client crates, so generated types never
//! reach the core.

/// Version 1 of the API, package `attestlog.v1`.
pub mod v1 {
    // Generated code: prost turns the schema's comments into doc comments,
    // but messages and fields without one (and some tonic items) would fail
    // the workspace's `missing_docs = "deny"`; the schema is their
    // documentation. Allowed for this module only.
    #![allow(missing_docs, clippy::all, clippy::pedantic)]
    tonic::include_proto!("attestlog.v1");

    /// Most fingerprints in one `SearchRequest.signed_by` (the schema's
    /// comment states it; server and client both read it from here).
    pub const MAX_SEARCH_SIGNERS: usize = 64;

    /// The encoded `FileDescriptorSet` of the API, for server reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        tonic::include_file_descriptor_set!("attestlog_v1_descriptor");
}
