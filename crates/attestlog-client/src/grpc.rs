//! The log's gRPC API (`proto/attestlog/v1/log.proto`) with domain types:
//! generated prost types stop here.
//!
//! Nothing returned is trusted by this module beyond its shape: callers
//! verify checkpoints, proofs and leaves.

use attestlog_core::Hash;
use attestlog_proto::v1 as pb;
use attestlog_proto::v1::log_client::LogClient as PbClient;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};

use crate::error::ClientError;

/// Most indexes one `Search` page returns (the log's limit).
pub const SEARCH_PAGE: u32 = 1000;
/// Most entries one `GetEntries` call returns (the log's limit).
pub const ENTRIES_PAGE: u64 = 1024;
/// Most indexes [`LogClient::search_all`] collects before giving up.
pub const MAX_SEARCH_RESULTS: usize = 100_000;

/// A connected client of one log.
#[derive(Clone, Debug)]
pub struct LogClient {
    inner: PbClient<Channel>,
}

/// What `Submit` answered.
#[derive(Clone, Debug)]
pub struct Submitted {
    /// The entry's index.
    pub index: u64,
    /// The canonical entry bytes.
    pub entry: Vec<u8>,
    /// The leaf hash the log computed for `entry` (checked by
    /// [`crate::submit::check_answer`], not here).
    pub leaf_hash: Hash,
    /// The signed checkpoint note that includes the entry.
    pub checkpoint: Vec<u8>,
    /// The inclusion proof under that checkpoint.
    pub audit_path: Vec<Hash>,
    /// Whether the entry had been logged before.
    pub duplicate: bool,
}

/// What to search by.
#[derive(Clone, Debug)]
pub enum SearchKey {
    /// A subject's SHA-256 digest.
    Sha256([u8; 32]),
    /// A signer's primary fingerprint.
    Signer(Vec<u8>),
    /// A subject name.
    SubjectName(String),
}

/// A transport error and its causes on one line (TLS failures say what is
/// wrong only in their sources), each said once.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cause = c.source();
    }
    out
}

fn hashes(list: Vec<Vec<u8>>, what: &str) -> Result<Vec<Hash>, ClientError> {
    list.iter()
        .map(|h| {
            Hash::from_slice(h)
                .ok_or_else(|| ClientError::BadAnswer(format!("{what}: not 32 bytes")))
        })
        .collect()
}

impl LogClient {
    /// Connects to `endpoint` (e.g. `http://127.0.0.1:7300`, or
    /// `https://log.example.org` over TLS trusting the system's CA
    /// certificates).
    pub async fn connect(endpoint: &str) -> Result<LogClient, ClientError> {
        LogClient::connect_trusting(endpoint, None).await
    }

    /// [`LogClient::connect`], also trusting the CA certificates in
    /// `ca_pem` (PEM) for an `https://` endpoint — a log whose certificate
    /// is not issued by a CA the system trusts.
    pub async fn connect_trusting(
        endpoint: &str,
        ca_pem: Option<&[u8]>,
    ) -> Result<LogClient, ClientError> {
        let failed = |reason: String| ClientError::Connect {
            endpoint: endpoint.to_owned(),
            reason,
        };
        let mut e =
            Endpoint::from_shared(endpoint.to_owned()).map_err(|e| failed(e.to_string()))?;
        if endpoint.starts_with("https://") {
            let mut tls = ClientTlsConfig::new().with_native_roots();
            if let Some(pem) = ca_pem {
                tls = tls.ca_certificate(Certificate::from_pem(pem));
            }
            e = e.tls_config(tls).map_err(|e| failed(e.to_string()))?;
        } else if ca_pem.is_some() {
            return Err(failed(
                "a CA certificate was given for a plain http:// endpoint; use https://".into(),
            ));
        }
        let channel = e.connect().await.map_err(|e| failed(error_chain(&e)))?;
        Ok(LogClient {
            inner: PbClient::new(channel).max_decoding_message_size(16 << 20),
        })
    }

    /// Submits an attestation (see `SubmitRequest`). With
    /// `wait_for_witnesses`, the log answers only once a checkpoint that
    /// includes the entry is cosigned to its witness policy's quorum.
    pub async fn submit(
        &mut self,
        payload: Vec<u8>,
        signature: Vec<u8>,
        certificate: Vec<u8>,
        wait_for_witnesses: bool,
    ) -> Result<Submitted, ClientError> {
        let r = self
            .inner
            .submit(pb::SubmitRequest {
                payload,
                signature,
                certificate,
                wait_for_witnesses,
            })
            .await
            .map_err(|s| ClientError::grpc("Submit", s))?
            .into_inner();
        let cp = r
            .checkpoint
            .ok_or_else(|| ClientError::BadAnswer("Submit answered without a checkpoint".into()))?;
        let leaf_hash = Hash::from_slice(&r.leaf_hash)
            .ok_or_else(|| ClientError::BadAnswer("Submit: leaf hash is not 32 bytes".into()))?;
        Ok(Submitted {
            index: r.index,
            entry: r.entry,
            leaf_hash,
            checkpoint: cp.note,
            audit_path: hashes(r.inclusion_proof, "inclusion proof")?,
            duplicate: r.duplicate,
        })
    }

    /// The log's latest signed checkpoint note.
    pub async fn checkpoint(&mut self) -> Result<Vec<u8>, ClientError> {
        Ok(self
            .inner
            .get_checkpoint(pb::GetCheckpointRequest {})
            .await
            .map_err(|s| ClientError::grpc("GetCheckpoint", s))?
            .into_inner()
            .note)
    }

    /// The audit path of `index` in the tree of `size` leaves.
    pub async fn inclusion_proof(
        &mut self,
        index: u64,
        size: u64,
    ) -> Result<Vec<Hash>, ClientError> {
        let r = self
            .inner
            .get_inclusion_proof(pb::GetInclusionProofRequest {
                leaf: Some(pb::get_inclusion_proof_request::Leaf::Index(index)),
                tree_size: Some(size),
            })
            .await
            .map_err(|s| ClientError::grpc("GetInclusionProof", s))?
            .into_inner();
        hashes(r.hashes, "inclusion proof")
    }

    /// The consistency proof from `old` to `new` leaves.
    pub async fn consistency_proof(
        &mut self,
        old: u64,
        new: u64,
    ) -> Result<Vec<Hash>, ClientError> {
        let r = self
            .inner
            .get_consistency_proof(pb::GetConsistencyProofRequest {
                old_size: old,
                new_size: Some(new),
            })
            .await
            .map_err(|s| ClientError::grpc("GetConsistencyProof", s))?
            .into_inner();
        hashes(r.hashes, "consistency proof")
    }

    /// Entries `[start, end)`, at most [`ENTRIES_PAGE`]; checks that the
    /// log sent exactly these indexes, in order.
    pub async fn entries(&mut self, start: u64, end: u64) -> Result<Vec<Vec<u8>>, ClientError> {
        let mut stream = self
            .inner
            .get_entries(pb::GetEntriesRequest { start, end })
            .await
            .map_err(|s| ClientError::grpc("GetEntries", s))?
            .into_inner();
        let mut out = Vec::new();
        while let Some(e) = stream
            .message()
            .await
            .map_err(|s| ClientError::grpc("GetEntries", s))?
        {
            if e.index != start + out.len() as u64 {
                return Err(ClientError::BadAnswer(format!(
                    "GetEntries sent index {} where {} was due",
                    e.index,
                    start + out.len() as u64
                )));
            }
            out.push(e.data);
        }
        if out.len() as u64 != end.saturating_sub(start) {
            return Err(ClientError::BadAnswer(format!(
                "GetEntries sent {} entries for [{start}, {end})",
                out.len()
            )));
        }
        Ok(out)
    }

    /// Every index matching `key`, following pages (at most
    /// [`MAX_SEARCH_RESULTS`]).
    pub async fn search_all(&mut self, key: SearchKey) -> Result<Vec<u64>, ClientError> {
        self.search_pages(key, Vec::new()).await
    }

    /// Every index matching `key` (a digest or a subject name) whose
    /// signer's primary fingerprint is one of `signers` (every signer if
    /// empty), following pages; more than
    /// [`attestlog_proto::v1::MAX_SEARCH_SIGNERS`] signers are asked for in
    /// several searches and the results joined. At most
    /// [`MAX_SEARCH_RESULTS`] indexes.
    pub async fn search_signed_by(
        &mut self,
        key: SearchKey,
        signers: &[Vec<u8>],
    ) -> Result<Vec<u64>, ClientError> {
        if signers.is_empty() {
            return self.search_all(key).await;
        }
        let mut out: Vec<u64> = Vec::new();
        for chunk in signers.chunks(pb::MAX_SEARCH_SIGNERS) {
            out.extend(self.search_pages(key.clone(), chunk.to_vec()).await?);
            if out.len() > MAX_SEARCH_RESULTS {
                return Err(ClientError::BadAnswer(format!(
                    "Search returned more than {MAX_SEARCH_RESULTS} entries"
                )));
            }
        }
        out.sort_unstable();
        out.dedup();
        Ok(out)
    }

    /// One search followed page by page (a page may hold no index and
    /// still carry `next_from_index`: the log scans a bounded number of
    /// entries per call).
    async fn search_pages(
        &mut self,
        key: SearchKey,
        signed_by: Vec<Vec<u8>>,
    ) -> Result<Vec<u64>, ClientError> {
        let key = match key {
            SearchKey::Sha256(d) => pb::search_request::Key::Sha256(d.to_vec()),
            SearchKey::Signer(f) => pb::search_request::Key::SignerFingerprint(f),
            SearchKey::SubjectName(n) => pb::search_request::Key::SubjectName(n),
        };
        let mut out: Vec<u64> = Vec::new();
        let mut from = 0;
        loop {
            let r = self
                .inner
                .search(pb::SearchRequest {
                    key: Some(key.clone()),
                    from_index: from,
                    limit: SEARCH_PAGE,
                    signed_by: signed_by.clone(),
                })
                .await
                .map_err(|s| ClientError::grpc("Search", s))?
                .into_inner();
            out.extend(&r.indexes);
            match r.next_from_index {
                Some(next) if next > from && out.len() < MAX_SEARCH_RESULTS => from = next,
                Some(_) if out.len() >= MAX_SEARCH_RESULTS => {
                    return Err(ClientError::BadAnswer(format!(
                        "Search returned more than {MAX_SEARCH_RESULTS} entries"
                    )))
                }
                Some(_) => {
                    return Err(ClientError::BadAnswer("Search pages do not advance".into()))
                }
                None => break,
            }
        }
        out.sort_unstable();
        out.dedup();
        Ok(out)
    }

    /// The certificate the log stores for a primary fingerprint (binary).
    pub async fn certificate(&mut self, fingerprint: &[u8]) -> Result<Vec<u8>, ClientError> {
        Ok(self
            .inner
            .get_certificate(pb::GetCertificateRequest {
                fingerprint: fingerprint.to_vec(),
            })
            .await
            .map_err(|s| ClientError::grpc("GetCertificate", s))?
            .into_inner()
            .data)
    }
}
