//! `Search` filtered by signer: "entries under this digest (or subject
//! name) signed by any of these keys".
//!
//! Anyone can log entries naming any digest, so a verifier that fetched
//! every entry under a digest could be made to fetch thousands. With the
//! filter it fetches only its trusted maintainers' entries; the log does
//! the scanning, bounded per call by [`MAX_SEARCH_SCAN`] entries, and says
//! where to continue. The signer of an entry is the primary fingerprint in
//! its leaf (`docs/SPEC.md` §6.5), read from the stored entry.

use attestlog_attest::Leaf;
use attestlog_store::{IndexKey, Store, StoreError, MAX_ENTRIES_PER_READ};

use crate::limits::MAX_SEARCH_SCAN;

/// One page of a filtered search.
#[derive(Debug, PartialEq, Eq)]
pub struct Page {
    /// Matching indexes, ascending.
    pub indexes: Vec<u64>,
    /// Where the next page starts; `None` when the key has no more entries.
    pub next_from_index: Option<u64>,
}

/// Indexes under `key`, from `from` and below `size`, whose signer is one
/// of `signers`: at most `limit`, looking at most at [`MAX_SEARCH_SCAN`]
/// entries.
pub fn signed_by(
    store: &dyn Store,
    key: &IndexKey,
    signers: &[Vec<u8>],
    from: u64,
    size: u64,
    limit: usize,
) -> Result<Page, StoreError> {
    let chunk = (MAX_ENTRIES_PER_READ as usize).min(MAX_SEARCH_SCAN);
    let mut indexes = Vec::new();
    let mut scanned = 0;
    let mut next = from;
    loop {
        let candidates: Vec<u64> = store
            .search(key, next, chunk)?
            .into_iter()
            .take_while(|&i| i < size)
            .collect();
        let exhausted = candidates.len() < chunk;
        for index in candidates {
            scanned += 1;
            next = index + 1;
            let entry = store.entries(index, index + 1)?;
            let signer = entry
                .first()
                .and_then(|bytes| Leaf::decode(bytes).ok())
                .map(|leaf| leaf.primary_fingerprint().as_bytes().to_vec());
            if signer.is_some_and(|s| signers.contains(&s)) {
                indexes.push(index);
                if indexes.len() == limit {
                    return Ok(Page {
                        indexes,
                        next_from_index: Some(next),
                    });
                }
            }
            if scanned == MAX_SEARCH_SCAN {
                return Ok(Page {
                    indexes,
                    next_from_index: Some(next),
                });
            }
        }
        if exhausted {
            return Ok(Page {
                indexes,
                next_from_index: None,
            });
        }
    }
}
