//! Byte layouts of RocksDB keys (see docs/ARCHITECTURE.md, "Storage keys").
//! All integers are big-endian so keys sort numerically.

use attestlog_core::tree::Subtree;

use crate::IndexKey;

/// `entries` key: the leaf index.
pub(crate) fn entry(index: u64) -> [u8; 8] {
    index.to_be_bytes()
}

/// `tiles` key: tile level (1 byte) then tile index (8 bytes).
pub(crate) fn tile(level: u8, index: u64) -> [u8; 9] {
    let mut k = [0u8; 9];
    k[0] = level;
    k[1..].copy_from_slice(&index.to_be_bytes());
    k
}

/// Layout 1's `hashes` key (tree level, then index), read when converting
/// an old directory.
pub(crate) fn parse_subtree(k: &[u8]) -> Option<Subtree> {
    let (&level, index) = k.split_first()?;
    Some(Subtree {
        level,
        index: u64::from_be_bytes(index.try_into().ok()?),
    })
}

/// Layout 1's `hashes` key for `st` (what [`parse_subtree`] reads).
#[cfg(test)]
pub(crate) fn subtree(st: &Subtree) -> [u8; 9] {
    tile(st.level, st.index)
}

/// `index` key prefix: kind byte, value length (u16), value.
pub(crate) fn index_prefix(key: &IndexKey) -> Vec<u8> {
    let (kind, value): (u8, &[u8]) = match key {
        IndexKey::Sha256(d) => (1, d),
        IndexKey::Signer(f) => (2, f),
        IndexKey::SubjectName(n) => (3, n.as_bytes()),
    };
    let len = u16::try_from(value.len()).unwrap_or(u16::MAX);
    let mut k = Vec::with_capacity(3 + value.len() + 8);
    k.push(kind);
    k.extend_from_slice(&len.to_be_bytes());
    k.extend_from_slice(&value[..usize::from(len)]);
    k
}

/// `index` key: prefix then the leaf index.
pub(crate) fn index(key: &IndexKey, leaf: u64) -> Vec<u8> {
    let mut k = index_prefix(key);
    k.extend_from_slice(&leaf.to_be_bytes());
    k
}

/// `meta` keys.
pub(crate) const META_SIZE: &[u8] = b"tree_size";
pub(crate) const META_CHECKPOINT: &[u8] = b"checkpoint";
