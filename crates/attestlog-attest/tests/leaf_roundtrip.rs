//! The leaf encoding is canonical: every leaf round-trips, and every byte
//! string the decoder accepts re-encodes to itself.

use attestlog_attest::openpgp::Fingerprint;
use attestlog_attest::{Leaf, MAX_ENTRY_SIZE};
use proptest::prelude::*;

/// Frames `body` as one new-format signature packet, shortest length form.
fn framed(body: &[u8]) -> Vec<u8> {
    let mut v = vec![0xC2];
    let n = body.len();
    if n < 192 {
        v.push(n as u8);
    } else if n < 8384 {
        v.push(((n - 192) / 256 + 192) as u8);
        v.push(((n - 192) % 256) as u8);
    } else {
        v.push(0xFF);
        v.extend_from_slice(&(n as u32).to_be_bytes());
    }
    v.extend_from_slice(body);
    v
}

fn fingerprint() -> impl Strategy<Value = Fingerprint> {
    prop_oneof![
        any::<[u8; 20]>().prop_map(Fingerprint::V4),
        any::<[u8; 32]>().prop_map(Fingerprint::V6),
    ]
}

fn leaf() -> impl Strategy<Value = Leaf> {
    (
        prop::collection::vec(any::<u8>(), 1..3000),
        prop::collection::vec(any::<u8>(), 0..9000),
        fingerprint(),
        fingerprint(),
        any::<u64>(),
    )
        .prop_map(|(statement, body, primary, signer, t)| {
            Leaf::new(statement, framed(&body), primary, signer, t).expect("within limits")
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn encode_decode_round_trip(l in leaf()) {
        let bytes = l.encode();
        prop_assert_eq!(bytes.len(), l.encoded_len());
        prop_assert!(bytes.len() <= MAX_ENTRY_SIZE);
        let back = Leaf::decode(&bytes).expect("decodes");
        prop_assert_eq!(&back, &l);
        prop_assert_eq!(back.encode(), bytes);
    }

    /// Mutations of a valid leaf either fail to decode or are themselves
    /// canonical (re-encode byte-identically).
    #[test]
    fn accepted_bytes_are_canonical(
        l in leaf(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
        cut in any::<prop::sample::Index>(),
        extra in prop::collection::vec(any::<u8>(), 0..3),
        truncate in any::<bool>(),
    ) {
        let mut bytes = l.encode();
        for (i, x) in flips {
            let i = i.index(bytes.len());
            bytes[i] ^= x;
        }
        if truncate {
            bytes.truncate(cut.index(bytes.len()));
        }
        bytes.extend(extra);
        if let Ok(decoded) = Leaf::decode(&bytes) {
            prop_assert_eq!(decoded.encode(), bytes);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(decoded) = Leaf::decode(&bytes) {
            prop_assert_eq!(decoded.encode(), bytes);
        }
    }
}

#[test]
fn trailing_bytes_and_unknown_versions_are_rejected() {
    let l = Leaf::new(
        b"{}".to_vec(),
        framed(&[0; 10]),
        Fingerprint::V4([1; 20]),
        Fingerprint::V4([1; 20]),
        7,
    )
    .unwrap();
    let mut bytes = l.encode();
    bytes.push(0);
    assert!(Leaf::decode(&bytes).is_err());
    bytes.pop();
    for v in [0u8, 3, 255] {
        bytes[0] = v;
        assert!(Leaf::decode(&bytes).is_err());
    }
    // Both versions in use decode, and say which they are.
    for v in [1u8, 2] {
        bytes[0] = v;
        assert_eq!(Leaf::decode(&bytes).unwrap().version(), v);
    }
}
