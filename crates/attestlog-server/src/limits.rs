//! Limits on every input the server accepts.

/// Largest `payload` of a submission (the attestation crate's limit: room
/// for an armored or dash-escaped message whose statement still fits in a
/// 65,535-byte entry).
pub const MAX_PAYLOAD_BYTES: usize = attestlog_attest::MAX_PAYLOAD_SIZE;

/// Largest detached signature input (the attestation crate's limit).
pub const MAX_SIGNATURE_BYTES: usize = attestlog_attest::MAX_SIGNATURE_INPUT_SIZE;

/// Largest certificate (the attestation crate's limit).
pub const MAX_CERTIFICATE_BYTES: usize = attestlog_attest::MAX_CERT_SIZE;

/// Largest gRPC request: the three fields above plus framing, so anything
/// larger is refused by the transport before it is buffered.
pub const MAX_REQUEST_BYTES: usize =
    MAX_PAYLOAD_BYTES + MAX_SIGNATURE_BYTES + MAX_CERTIFICATE_BYTES + 1024;

/// Largest gRPC response (a `GetEntries` stream message, or a submit
/// answer with its entry and proof).
pub const MAX_RESPONSE_BYTES: usize = 2 * 65_536 + 16 * 1024;

/// Most indexes one `Search` returns.
pub const MAX_SEARCH_RESULTS: usize = 1000;

/// Longest request path the HTTP API reads.
pub const MAX_HTTP_PATH: usize = 256;

/// Concurrent gRPC calls (HTTP/2 streams) per connection; a client that
/// wants more opens another connection.
pub const MAX_STREAMS_PER_CONNECTION: u32 = 256;

/// Longest a gRPC call may take before it is cancelled with
/// DEADLINE_EXCEEDED (Submit with `wait_for_witnesses` waits at most 30 s).
pub const CALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Most signer fingerprints in one `Search` filter (`signed_by`).
pub const MAX_SEARCH_SIGNERS: usize = attestlog_proto::v1::MAX_SEARCH_SIGNERS;

/// Most entries one filtered `Search` looks at before answering with what
/// it found and where to continue (`next_from_index`).
pub const MAX_SEARCH_SCAN: usize = 10_000;
