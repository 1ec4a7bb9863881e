//! Byte layouts of RocksDB keys (see docs/ARCHITECTURE.md, "Storage keys").
//! All integers are big-endian so keys sort numerically.

use attestlog_core::tree::Subtree;

use crate::IndexKey;

/// `entries` key: the leaf index.
pub(crate) fn entry(index: u64) -> [u8; 8] {
    index.to_be_bytes()
}

/// `hashes` key: level (1 byte) then index (8 bytes).
pub(crate) fn subtree(st: &Subtree) -> [u8; 9] {
    let mut k = [0u8; 9];
    k[0] = st.level;
    k[1..].copy_from_slice(&st.index.to_be_bytes());
    k
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
