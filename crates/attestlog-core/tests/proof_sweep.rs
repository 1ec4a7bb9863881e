//! Exhaustive proof checks over small trees, each with tampered twins.
//!
//! For every tree size 1..=64 and every leaf, and for every pair of sizes
//! `old <= new <= 64`, the generated proof verifies, and each of these
//! fails: a flipped bit in any proof hash, a flipped root, a wrong index,
//! another tree size with that size's root, a proof with a hash added or
//! removed.

use attestlog_core::proof::{
    prove_consistency, prove_inclusion, verify_consistency, verify_inclusion, ProofError,
    MAX_PROOF_HASHES,
};
use attestlog_core::tree::{tree_root, InMemoryTree, MAX_TREE_SIZE};
use attestlog_core::{leaf_hash, Hash};

const N: u64 = 64;

fn tree(n: u64) -> (InMemoryTree, Vec<Hash>) {
    let mut t = InMemoryTree::new();
    let leaves: Vec<Hash> = (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect();
    for l in &leaves {
        t.push(*l);
    }
    (t, leaves)
}

fn flip(h: &Hash, bit: usize) -> Hash {
    let mut b = h.0;
    b[bit / 8] ^= 1 << (bit % 8);
    Hash(b)
}

#[test]
fn inclusion_every_leaf_every_size() {
    let (t, leaves) = tree(N);
    let roots: Vec<Hash> = (0..=N).map(|s| tree_root(&t, s).unwrap()).collect();
    for size in 1..=N {
        let root = roots[size as usize];
        for index in 0..size {
            let leaf = leaves[index as usize];
            let proof = prove_inclusion(&t, index, size).unwrap();
            verify_inclusion(&leaf, index, size, &proof, &root).unwrap();

            for (i, _) in proof.iter().enumerate() {
                let mut bad = proof.clone();
                bad[i] = flip(&bad[i], (i * 7 + 3) % 256);
                assert!(verify_inclusion(&leaf, index, size, &bad, &root).is_err());
            }
            assert!(verify_inclusion(&flip(&leaf, 0), index, size, &proof, &root).is_err());
            assert!(verify_inclusion(&leaf, index, size, &proof, &flip(&root, 255)).is_err());
            if index + 1 < size {
                assert!(verify_inclusion(&leaf, index + 1, size, &proof, &root).is_err());
            }
            if index > 0 {
                assert!(verify_inclusion(&leaf, index - 1, size, &proof, &root).is_err());
            }
            // The proof does not show inclusion in any other tree size.
            for other in index + 1..=N {
                if other != size {
                    let r = roots[other as usize];
                    assert!(verify_inclusion(&leaf, index, other, &proof, &r).is_err());
                }
            }
            let mut longer = proof.clone();
            longer.push(root);
            assert!(matches!(
                verify_inclusion(&leaf, index, size, &longer, &root),
                Err(ProofError::WrongProofLength { .. })
            ));
            if !proof.is_empty() {
                let shorter = &proof[..proof.len() - 1];
                assert!(matches!(
                    verify_inclusion(&leaf, index, size, shorter, &root),
                    Err(ProofError::WrongProofLength { .. })
                ));
            }
        }
    }
}

#[test]
fn consistency_every_pair() {
    let (t, _) = tree(N);
    let roots: Vec<Hash> = (0..=N).map(|s| tree_root(&t, s).unwrap()).collect();
    for new in 0..=N {
        for old in 0..=new {
            let (r1, r2) = (roots[old as usize], roots[new as usize]);
            let proof = prove_consistency(&t, old, new).unwrap();
            verify_consistency(old, new, &r1, &r2, &proof).unwrap();
            if old == 0 || old == new {
                assert!(proof.is_empty());
            }
            for (i, _) in proof.iter().enumerate() {
                let mut bad = proof.clone();
                bad[i] = flip(&bad[i], (i * 13 + 5) % 256);
                assert!(verify_consistency(old, new, &r1, &r2, &bad).is_err());
            }
            if old > 0 {
                // (With old = 0 there is nothing to prove: any new root is
                // consistent with the empty tree.)
                assert!(verify_consistency(old, new, &r1, &flip(&r2, 1), &proof).is_err());
            }
            if old > 0 {
                assert!(verify_consistency(old, new, &flip(&r1, 2), &r2, &proof).is_err());
            }
            if old > 0 && old < new {
                // Claiming the old tree was a different size fails.
                for other in [old - 1, old + 1] {
                    if other > 0 && other != old && other < new {
                        assert!(verify_consistency(other, new, &r1, &r2, &proof).is_err());
                    }
                }
                let mut longer = proof.clone();
                longer.push(r1);
                assert!(verify_consistency(old, new, &r1, &r2, &longer).is_err());
                let shorter = &proof[..proof.len() - 1];
                assert!(verify_consistency(old, new, &r1, &r2, shorter).is_err());
            }
        }
    }
}

#[test]
fn distinct_errors_for_bad_arguments() {
    let h = Hash([0; 32]);
    assert_eq!(
        verify_inclusion(&h, 0, MAX_TREE_SIZE + 1, &[], &h),
        Err(ProofError::SizeTooLarge {
            size: MAX_TREE_SIZE + 1
        })
    );
    assert_eq!(
        verify_inclusion(&h, 5, 5, &[], &h),
        Err(ProofError::IndexOutOfRange { index: 5, size: 5 })
    );
    assert_eq!(
        verify_consistency(6, 5, &h, &h, &[]),
        Err(ProofError::OldSizeLarger { old: 6, new: 5 })
    );
    let long = vec![h; MAX_PROOF_HASHES + 1];
    assert_eq!(
        verify_inclusion(&h, 0, 8, &long, &h),
        Err(ProofError::ProofTooLong { len: 64 })
    );
    assert_eq!(
        verify_consistency(3, 8, &h, &h, &long),
        Err(ProofError::ProofTooLong { len: 64 })
    );
    assert_eq!(
        verify_inclusion(&h, 0, 8, &[h], &h),
        Err(ProofError::WrongProofLength {
            expected: 3,
            got: 1
        })
    );
    // The largest allowed tree still works arithmetically.
    let proof = vec![h; 63];
    assert_eq!(
        verify_inclusion(&h, MAX_TREE_SIZE - 1, MAX_TREE_SIZE, &proof, &h),
        Err(ProofError::RootMismatch)
    );
}
