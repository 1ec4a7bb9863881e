//! The gRPC service (`attestlog.v1.Log`): converts between generated
//! types and domain types, and nothing more.

use std::sync::Arc;

use attestlog_core::proof::{prove_consistency, prove_inclusion, ProofError, ProveError};
use attestlog_core::tree::MAX_TREE_SIZE;
use attestlog_core::Hash;
use attestlog_proto::v1 as pb;
use attestlog_store::{IndexKey, StoreError, MAX_ENTRIES_PER_READ};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use crate::admission::{AdmissionPool, Submission};
use crate::error::ApiError;
use crate::limits::{
    MAX_CERTIFICATE_BYTES, MAX_PAYLOAD_BYTES, MAX_SEARCH_RESULTS, MAX_SEARCH_SIGNERS,
    MAX_SIGNATURE_BYTES,
};
use crate::publish::ReplicatedAck;
use crate::rate_limit::{KeyRateLimiter, RateLimit};
use crate::sequencer::SequencerHandle;
use crate::state::{LogState, Published};

/// How long `Submit` waits for witnesses when asked to.
const WITNESS_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// The service; cheap to clone.
#[derive(Clone)]
pub struct LogService {
    state: Arc<LogState>,
    admission: Option<Arc<AdmissionPool>>,
    /// `None` on a read replica, which refuses `Submit`.
    sequencer: Option<SequencerHandle>,
    /// The primary a read replica names when it refuses `Submit`.
    primary: Option<String>,
    witnessing: bool,
    rate_limit: Option<Arc<KeyRateLimiter>>,
    replicated: Option<Arc<ReplicatedAck>>,
}

impl LogService {
    /// A service over the shared state, admitting on `admission`,
    /// sequencing through `sequencer`, and limiting each signer's key to
    /// `rate_limit` (none: no limit), and answering only once the bucket
    /// holds the entry if `replicated` is set.
    pub fn new(
        state: Arc<LogState>,
        admission: AdmissionPool,
        sequencer: SequencerHandle,
        witnessing: bool,
        rate_limit: Option<RateLimit>,
        replicated: Option<ReplicatedAck>,
    ) -> Self {
        LogService {
            state,
            admission: Some(Arc::new(admission)),
            sequencer: Some(sequencer),
            primary: None,
            witnessing,
            rate_limit: rate_limit.map(|l| Arc::new(KeyRateLimiter::new(l))),
            replicated: replicated.map(Arc::new),
        }
    }

    /// The service of a read replica of the log at `primary`: the read
    /// calls over `state`, and `Submit` refused with FAILED_PRECONDITION
    /// naming the primary.
    pub fn replica(state: Arc<LogState>, primary: String) -> Self {
        LogService {
            state,
            admission: None,
            sequencer: None,
            primary: Some(primary),
            witnessing: false,
            rate_limit: None,
            replicated: None,
        }
    }

    /// Takes a token from the signer's bucket, if the log limits keys.
    fn charge(&self, signer: &[u8]) -> Result<Option<&KeyRateLimiter>, ApiError> {
        let Some(limiter) = self.rate_limit.as_deref() else {
            return Ok(None);
        };
        limiter
            .try_take(signer, std::time::Instant::now())
            .map_err(|wait| {
                let l = limiter.limit();
                ApiError::RateLimited(format!(
                    "key {} is over this log's limit of {} entries per minute (burst {}); retry in {} s",
                    hex::encode_upper(signer),
                    l.per_minute,
                    l.burst,
                    wait.as_secs().max(1)
                ))
            })?;
        Ok(Some(limiter))
    }

    fn reject(&self, e: ApiError) -> Status {
        let reason = match &e {
            ApiError::Rejected(r) => r.reason(),
            ApiError::AdmissionBusy(_) => "admission_busy",
            ApiError::Sequence(crate::sequencer::SequenceError::QueueFull(_)) => "queue_full",
            ApiError::Sequence(_) => "stopped",
            ApiError::RateLimited(_) => "rate_limited",
            ApiError::Unavailable(_) => "unavailable",
            _ => "other",
        };
        self.state.metrics.reject(reason);
        e.into()
    }

    async fn submit(&self, req: pb::SubmitRequest) -> Result<pb::SubmitResponse, ApiError> {
        let (Some(admission), Some(_)) = (&self.admission, &self.sequencer) else {
            return Err(ApiError::FailedPrecondition(format!(
                "this is a read replica of the log at {}; submit there",
                self.primary.as_deref().unwrap_or("its primary")
            )));
        };
        check_len("payload", req.payload.len(), MAX_PAYLOAD_BYTES)?;
        check_len("signature", req.signature.len(), MAX_SIGNATURE_BYTES)?;
        check_len("certificate", req.certificate.len(), MAX_CERTIFICATE_BYTES)?;
        if req.payload.is_empty() {
            return Err(ApiError::InvalidArgument("payload is empty".into()));
        }
        if req.wait_for_witnesses && !self.witnessing {
            return Err(ApiError::FailedPrecondition(
                "this log has no witness policy; submit without wait_for_witnesses".into(),
            ));
        }
        // Under ack = "replicated", a failing store or too many waiters
        // refuse the submission before anything is logged.
        let replicated = match &self.replicated {
            Some(r) => Some((
                r,
                r.enter(&self.state.bucket).map_err(ApiError::Unavailable)?,
            )),
            None => None,
        };
        let submission = Submission {
            payload: req.payload,
            signature: non_empty(req.signature),
            certificate: non_empty(req.certificate),
        };
        // Checked on the admission pool, not on the runtime's workers: a
        // crafted submission must never occupy the threads that serve
        // every other call (docs/SPEC.md §6.6).
        let admitted = admission.admit(submission).await?;
        let signer = admitted.signer.clone();
        let charged = self.charge(&signer)?;
        let sequenced = self.sequence(admitted).await;
        if let Some(limiter) = charged {
            // Only a new entry costs a token: a duplicate (for example a
            // replay of someone's signed attestation) or a failure does not.
            if !matches!(&sequenced, Ok(done) if !done.duplicate) {
                limiter.give_back(&signer);
            }
        }
        let done = sequenced?;
        if let Some((r, _permit)) = &replicated {
            r.wait(&self.state.bucket, done.index)
                .await
                .map_err(ApiError::Unavailable)?;
        }
        let (checkpoint, proof) = if req.wait_for_witnesses {
            let w = self.wait_for_witnesses(done.index).await?;
            let proof = prove_inclusion(self.state.store.as_ref(), done.index, w.checkpoint.size)
                .map_err(prove_error)?;
            (signed_checkpoint(&w.checkpoint), hashes_to_bytes(&proof))
        } else {
            (
                signed_checkpoint(&done.checkpoint),
                hashes_to_bytes(&done.proof),
            )
        };
        Ok(pb::SubmitResponse {
            index: done.index,
            leaf_hash: done.leaf_hash.0.to_vec(),
            entry: done.entry,
            checkpoint: Some(checkpoint),
            inclusion_proof: proof,
            duplicate: done.duplicate,
        })
    }

    /// Hands an admitted entry to the sequencer and waits until it is
    /// durable.
    async fn sequence(
        &self,
        admitted: crate::admission::Admitted,
    ) -> Result<crate::sequencer::Sequenced, ApiError> {
        let sequencer = self.sequencer.as_ref().ok_or_else(|| {
            ApiError::FailedPrecondition("this read replica does not sequence entries".into())
        })?;
        let rx = sequencer.submit(admitted)?;
        rx.await
            .map_err(|_| {
                ApiError::Sequence(crate::sequencer::SequenceError::Stopped(
                    "the sequencer stopped".into(),
                ))
            })?
            .map_err(ApiError::from)
    }

    /// Waits for a witnessed checkpoint that includes `index` and meets the
    /// quorum.
    async fn wait_for_witnesses(
        &self,
        index: u64,
    ) -> Result<Arc<crate::state::CollectedCosignatures>, ApiError> {
        let mut rx = self.state.subscribe_witnessed();
        let found = tokio::time::timeout(WITNESS_WAIT, async {
            rx.wait_for(|w| {
                w.as_ref()
                    .is_some_and(|w| w.quorum_met && w.checkpoint.size > index)
            })
            .await
            .ok()
            .and_then(|w| w.clone())
        })
        .await;
        match found {
            Ok(Some(w)) => Ok(w),
            _ => Err(ApiError::DeadlineExceeded(format!(
                "entry {index} is logged, but the witnesses did not cosign a checkpoint including it within {} s",
                WITNESS_WAIT.as_secs()
            ))),
        }
    }

    fn inclusion(&self, req: pb::GetInclusionProofRequest) -> Result<pb::InclusionProof, ApiError> {
        let current = self.state.current();
        let size = req.tree_size.unwrap_or(current.size);
        check_size(size, current.size)?;
        let store = self.state.store.as_ref();
        let (index, leaf) = match req.leaf {
            None => {
                return Err(ApiError::InvalidArgument(
                    "give an index or a leaf hash".into(),
                ))
            }
            Some(pb::get_inclusion_proof_request::Leaf::Index(i)) => {
                if i >= size {
                    return Err(ApiError::OutOfRange(format!(
                        "index {i} is not below tree size {size}"
                    )));
                }
                let h = store.read_hashes(&[attestlog_core::tree::Subtree::leaf(i)])?;
                (i, h[0])
            }
            Some(pb::get_inclusion_proof_request::Leaf::LeafHash(h)) => {
                let h = Hash::from_slice(&h).ok_or_else(|| {
                    ApiError::InvalidArgument("leaf hash must be 32 bytes".into())
                })?;
                let i = store
                    .index_of_leaf(&h)?
                    .ok_or_else(|| ApiError::NotFound(format!("no entry has leaf hash {h}")))?;
                if i >= size {
                    return Err(ApiError::OutOfRange(format!(
                        "entry {i} is not in the tree of size {size}"
                    )));
                }
                (i, h)
            }
        };
        let proof = prove_inclusion(store, index, size).map_err(prove_error)?;
        Ok(pb::InclusionProof {
            index,
            tree_size: size,
            leaf_hash: leaf.0.to_vec(),
            hashes: hashes_to_bytes(&proof),
        })
    }

    fn consistency(
        &self,
        req: pb::GetConsistencyProofRequest,
    ) -> Result<pb::ConsistencyProof, ApiError> {
        let current = self.state.current();
        let new = req.new_size.unwrap_or(current.size);
        check_size(new, current.size)?;
        if req.old_size > new {
            return Err(ApiError::InvalidArgument(format!(
                "old size {} is larger than new size {new}",
                req.old_size
            )));
        }
        let proof =
            prove_consistency(self.state.store.as_ref(), req.old_size, new).map_err(prove_error)?;
        Ok(pb::ConsistencyProof {
            old_size: req.old_size,
            new_size: new,
            hashes: hashes_to_bytes(&proof),
        })
    }

    fn search(&self, req: pb::SearchRequest) -> Result<pb::SearchResponse, ApiError> {
        let key = match req.key {
            None => return Err(ApiError::InvalidArgument("give a search key".into())),
            Some(pb::search_request::Key::Sha256(d)) => IndexKey::Sha256(
                d.try_into()
                    .map_err(|_| ApiError::InvalidArgument("sha256 must be 32 bytes".into()))?,
            ),
            Some(pb::search_request::Key::SignerFingerprint(f)) => {
                if f.is_empty() || f.len() > 32 {
                    return Err(ApiError::InvalidArgument(
                        "a fingerprint is 20 or 32 bytes".into(),
                    ));
                }
                IndexKey::Signer(f)
            }
            Some(pb::search_request::Key::SubjectName(n)) => {
                if n.is_empty() || n.len() > 4096 {
                    return Err(ApiError::InvalidArgument(
                        "a subject name is 1 to 4096 bytes".into(),
                    ));
                }
                IndexKey::SubjectName(n)
            }
        };
        let limit = match req.limit {
            0 => MAX_SEARCH_RESULTS,
            n => (n as usize).min(MAX_SEARCH_RESULTS),
        };
        let size = self.state.current().size;
        if !req.signed_by.is_empty() {
            if matches!(key, IndexKey::Signer(_)) {
                return Err(ApiError::InvalidArgument(
                    "signed_by filters a sha256 or subject_name search".into(),
                ));
            }
            if req.signed_by.len() > MAX_SEARCH_SIGNERS
                || req.signed_by.iter().any(|f| f.len() != 20 && f.len() != 32)
            {
                return Err(ApiError::InvalidArgument(format!(
                    "signed_by takes at most {MAX_SEARCH_SIGNERS} fingerprints of 20 or 32 bytes"
                )));
            }
            let page = crate::search::signed_by(
                self.state.store.as_ref(),
                &key,
                &req.signed_by,
                req.from_index,
                size,
                limit,
            )?;
            return Ok(pb::SearchResponse {
                indexes: page.indexes,
                next_from_index: page.next_from_index,
            });
        }
        let mut indexes = self.state.store.search(&key, req.from_index, limit)?;
        // Index rows are written with their entries; hide any beyond the
        // published checkpoint.
        indexes.retain(|&i| i < size);
        let next_from_index = (indexes.len() == limit)
            .then(|| indexes.last().map(|l| l + 1))
            .flatten();
        Ok(pb::SearchResponse {
            indexes,
            next_from_index,
        })
    }
}

fn non_empty(v: Vec<u8>) -> Option<Vec<u8>> {
    (!v.is_empty()).then_some(v)
}

fn check_len(what: &str, len: usize, max: usize) -> Result<(), ApiError> {
    if len > max {
        return Err(ApiError::Rejected(crate::admission::Rejection::TooLarge(
            format!("{what} is {len} bytes; the limit is {max}"),
        )));
    }
    Ok(())
}

fn check_size(size: u64, current: u64) -> Result<(), ApiError> {
    if size > MAX_TREE_SIZE {
        return Err(ApiError::InvalidArgument(format!(
            "tree size {size} is larger than 2^63"
        )));
    }
    if size > current {
        return Err(ApiError::OutOfRange(format!(
            "tree size {size} is beyond the current tree of {current} entries"
        )));
    }
    Ok(())
}

fn prove_error(e: ProveError<StoreError>) -> ApiError {
    match e {
        ProveError::Invalid(ProofError::IndexOutOfRange { index, size }) => {
            ApiError::OutOfRange(format!("index {index} is not below tree size {size}"))
        }
        ProveError::Invalid(p) => ApiError::InvalidArgument(p.to_string()),
        ProveError::Read(s) => ApiError::Internal(s.to_string()),
    }
}

fn hashes_to_bytes(hs: &[Hash]) -> Vec<Vec<u8>> {
    hs.iter().map(|h| h.0.to_vec()).collect()
}

fn signed_checkpoint(p: &Published) -> pb::SignedCheckpoint {
    pb::SignedCheckpoint {
        note: p.note.clone(),
        size: p.size,
        root: p.root.0.to_vec(),
    }
}

#[tonic::async_trait]
impl pb::log_server::Log for LogService {
    async fn submit(
        &self,
        request: Request<pb::SubmitRequest>,
    ) -> Result<Response<pb::SubmitResponse>, Status> {
        match LogService::submit(self, request.into_inner()).await {
            Ok(r) => Ok(Response::new(r)),
            Err(e) => Err(self.reject(e)),
        }
    }

    async fn get_checkpoint(
        &self,
        _request: Request<pb::GetCheckpointRequest>,
    ) -> Result<Response<pb::SignedCheckpoint>, Status> {
        Ok(Response::new(signed_checkpoint(&self.state.served())))
    }

    async fn get_inclusion_proof(
        &self,
        request: Request<pb::GetInclusionProofRequest>,
    ) -> Result<Response<pb::InclusionProof>, Status> {
        Ok(Response::new(self.inclusion(request.into_inner())?))
    }

    async fn get_consistency_proof(
        &self,
        request: Request<pb::GetConsistencyProofRequest>,
    ) -> Result<Response<pb::ConsistencyProof>, Status> {
        Ok(Response::new(self.consistency(request.into_inner())?))
    }

    type GetEntriesStream = ReceiverStream<Result<pb::Entry, Status>>;

    async fn get_entries(
        &self,
        request: Request<pb::GetEntriesRequest>,
    ) -> Result<Response<Self::GetEntriesStream>, Status> {
        let req = request.into_inner();
        let size = self.state.current().size;
        if req.start >= req.end {
            return Err(ApiError::InvalidArgument(format!(
                "start {} must be below end {}",
                req.start, req.end
            ))
            .into());
        }
        if req.end - req.start > MAX_ENTRIES_PER_READ {
            return Err(ApiError::InvalidArgument(format!(
                "at most {MAX_ENTRIES_PER_READ} entries per call"
            ))
            .into());
        }
        if req.end > size {
            return Err(ApiError::OutOfRange(format!(
                "end {} is beyond the tree of {size} entries",
                req.end
            ))
            .into());
        }
        let (tx, rx) = tokio::sync::mpsc::channel(16);
        let store = self.state.store.clone();
        tokio::task::spawn_blocking(move || {
            let mut at = req.start;
            while at < req.end {
                let end = (at + 64).min(req.end);
                match store.entries(at, end) {
                    Ok(entries) => {
                        for (i, data) in entries.into_iter().enumerate() {
                            let e = pb::Entry {
                                index: at + i as u64,
                                data,
                            };
                            if tx.blocking_send(Ok(e)).is_err() {
                                return; // the client went away
                            }
                        }
                    }
                    Err(e) => {
                        let _ = tx.blocking_send(Err(ApiError::from(e).into()));
                        return;
                    }
                }
                at = end;
            }
        });
        Ok(Response::new(ReceiverStream::new(rx)))
    }

    async fn search(
        &self,
        request: Request<pb::SearchRequest>,
    ) -> Result<Response<pb::SearchResponse>, Status> {
        Ok(Response::new(LogService::search(
            self,
            request.into_inner(),
        )?))
    }

    async fn get_certificate(
        &self,
        request: Request<pb::GetCertificateRequest>,
    ) -> Result<Response<pb::Certificate>, Status> {
        let fpr = request.into_inner().fingerprint;
        if fpr.is_empty() || fpr.len() > 32 {
            return Err(ApiError::InvalidArgument("a fingerprint is 20 or 32 bytes".into()).into());
        }
        match self.state.store.certificate(&fpr).map_err(ApiError::from)? {
            Some(data) => Ok(Response::new(pb::Certificate {
                fingerprint: fpr,
                data,
            })),
            None => Err(ApiError::NotFound(format!(
                "no certificate with fingerprint {}",
                hex_upper(&fpr)
            ))
            .into()),
        }
    }
}

fn hex_upper(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02X}")).collect()
}
