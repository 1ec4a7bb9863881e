use super::*;
use crate::note::SignerKey;
use crate::rand_core::OsRng;
use proptest::prelude::*;

fn log_key(name: &str) -> String {
    SignerKey::generate(name, KeyType::Ed25519, &mut OsRng)
        .unwrap()
        .verifier()
        .to_key_string()
}

fn witness_key(name: &str) -> String {
    SignerKey::generate(name, KeyType::Cosignature, &mut OsRng)
        .unwrap()
        .verifier()
        .to_key_string()
}

fn sample() -> String {
    format!(
        "# example\n\nlog {} http://127.0.0.1:1\n\twitness X1 {}\nwitness X2 {} http://w2\nwitness Y1 {}\n\
         group X 2 X1 X2\ngroup Y any Y1\n  group XY all X Y  \nquorum XY\n",
        log_key("example.org/log"),
        witness_key("w1.example"),
        witness_key("w2.example"),
        witness_key("y1.example"),
    )
}

#[test]
fn parses_the_spec_example_shape_and_round_trips() {
    let p = TlogPolicy::parse(sample().as_bytes()).unwrap();
    assert_eq!(p.logs.len(), 1);
    assert_eq!(p.logs[0].key_name(), "example.org/log");
    assert_eq!(p.logs[0].url_str(), Some("http://127.0.0.1:1"));
    assert_eq!(p.witnesses.len(), 3);
    assert_eq!(
        p.groups[2].members,
        vec![Member::Group(0), Member::Group(1)]
    );
    assert_eq!(p.quorum, Quorum::Member(Member::Group(2)));
    let again = TlogPolicy::parse(&p.to_bytes()).unwrap();
    assert_eq!(again, p);
    assert_eq!(again.to_bytes(), p.to_bytes());
}

#[test]
fn evaluates_nested_groups() {
    let p = TlogPolicy::parse(sample().as_bytes()).unwrap();
    assert!(!p.quorum_met(&[]));
    assert!(!p.quorum_met(&[0, 1]), "X without Y");
    assert!(!p.quorum_met(&[0, 2]), "1 of 2 X");
    assert!(p.quorum_met(&[0, 1, 2]));
    let why = p.explain(&[0, 2]);
    assert!(why.contains("X2 (missing)"), "{why}");
    let none =
        TlogPolicy::parse(format!("log {}\nquorum none\n", log_key("l")).as_bytes()).unwrap();
    assert!(none.quorum_met(&[]));
    let single =
        TlogPolicy::parse(format!("witness a {}\nquorum a", witness_key("a")).as_bytes()).unwrap();
    assert!(single.logs.is_empty());
    assert!(single.quorum_met(&[0]) && !single.quorum_met(&[]));
}

#[test]
fn rejects_what_the_spec_forbids() {
    let w = witness_key("w");
    let w2 = witness_key("w2");
    let l = log_key("l");
    let l_rotated = log_key("l");
    let cases: Vec<(String, &str)> = vec![
        (String::new(), "no quorum"),
        (format!("log {l}\n"), "no quorum"),
        ("quorum none\nquorum none\n".into(), "second quorum"),
        ("quorum x\n".into(), "not defined"),
        (format!("log {l}\nlog {l}\nquorum none\n"), "duplicate log"),
        (
            format!("log {l}\n# rotated\nlog {l_rotated}\nquorum none\n"),
            "origin \"l\" is listed twice (line 1 and line 3)",
        ),
        (
            format!("witness a {w}\nwitness b {w}\nquorum none\n"),
            "duplicate witness",
        ),
        (
            format!("witness a {w}\nwitness a {w2}\nquorum none\n"),
            "defined twice",
        ),
        (
            format!("witness a {w}\ngroup a any a\nquorum none\n"),
            "defined twice",
        ),
        (format!("witness none {w}\nquorum none\n"), "predefined"),
        (
            format!("witness a {w}\ngroup g any a none\nquorum g\n"),
            "`none` cannot",
        ),
        (
            format!("witness a {w}\ngroup g any a a\nquorum g\n"),
            "listed twice",
        ),
        (
            format!("witness a {w}\ngroup g 2 a\nquorum g\n"),
            "not between",
        ),
        (
            format!("witness a {w}\ngroup g 0 a\nquorum g\n"),
            "not between",
        ),
        (
            format!("witness a {w}\ngroup g 01 a\nquorum g\n"),
            "threshold",
        ),
        (
            format!("witness a {w}\ngroup g any\nquorum g\n"),
            "at least one member",
        ),
        (
            format!("group g any a\nwitness a {w}\nquorum g\n"),
            "not defined",
        ),
        (format!("quorum a\nwitness a {w}\n"), "not defined"),
        (format!("log {w}\nquorum none\n"), "must be 0x01"),
        (format!("witness a {l}\nquorum none\n"), "must be 0x04"),
        ("log notakey\nquorum none\n".into(), "log key"),
        (format!("log {l} url extra\nquorum none\n"), "expected `log"),
        ("bogus line\nquorum none\n".into(), "unknown keyword"),
        ("quorum none\x0c\n".into(), "control character"),
        ("quorum\n".into(), "expected `quorum"),
    ];
    for (text, want) in cases {
        let err = TlogPolicy::parse(text.as_bytes())
            .expect_err(&text)
            .to_string();
        assert!(err.contains(want), "{text:?}: got {err:?}, want {want:?}");
    }
}

/// Two `log` lines for one origin (a key "rotation") are refused, whichever
/// key comes first: the policy must not accept checkpoints of one log
/// identity signed by either of two keys. Logs of different origins, and
/// one origin's key with a URL, are fine.
#[test]
fn one_origin_has_one_key() {
    let (a, b) = (log_key("example.org/log"), log_key("example.org/log"));
    for (first, second) in [(&a, &b), (&b, &a)] {
        let text = format!("log {first} http://one\nlog {second} http://two\nquorum none\n");
        let err = TlogPolicy::parse(text.as_bytes())
            .expect_err(&text)
            .to_string();
        assert!(
            err.starts_with("policy line 2: origin \"example.org/log\" is listed twice"),
            "{err}"
        );
        assert!(err.contains("no key rotation"), "{err}");
    }
    let two = format!(
        "log {a} http://one\nlog {}\nquorum none\n",
        log_key("example.org/other")
    );
    let p = TlogPolicy::parse(two.as_bytes()).unwrap();
    assert_eq!(p.logs.len(), 2);
    assert_eq!(
        p.log("example.org/log").map(|l| &l.key),
        Some(&p.logs[0].key)
    );
}

#[test]
fn names_are_opaque_octets() {
    let w = witness_key("w");
    let text = [
        b"witness \xe2\x84\xaa ".as_slice(),
        w.as_bytes(),
        b"\nquorum \xe2\x84\xaa\n",
    ]
    .concat();
    let p = TlogPolicy::parse(&text).unwrap();
    assert_eq!(p.witnesses[0].name, b"\xe2\x84\xaa");
    let k = [
        b"witness K ".as_slice(),
        w.as_bytes(),
        b"\nquorum \xe2\x84\xaa\n",
    ]
    .concat();
    assert!(TlogPolicy::parse(&k).is_err(), "K is not the Kelvin sign");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Random policies (random witness counts, nested groups, thresholds)
    /// serialize and parse back to themselves.
    #[test]
    fn random_policies_round_trip(
        n_witnesses in 1usize..6,
        groups in proptest::collection::vec((1usize..4, 0u8..3), 0..4),
        with_url in any::<bool>(),
    ) {
        let mut text = format!("log {}{}\n", log_key("o"), if with_url { " http://x" } else { "" });
        for i in 0..n_witnesses {
            text.push_str(&format!("witness w{i} {}\n", witness_key(&format!("w{i}"))));
        }
        let mut names: Vec<String> = (0..n_witnesses).map(|i| format!("w{i}")).collect();
        for (gi, (size, kind)) in groups.iter().enumerate() {
            let members: Vec<String> = names.iter().rev().take(*size).cloned().collect();
            let k = match kind { 0 => "all".to_string(), 1 => "any".to_string(), _ => members.len().to_string() };
            text.push_str(&format!("group g{gi} {k} {}\n", members.join(" ")));
            names.push(format!("g{gi}"));
        }
        text.push_str(&format!("quorum {}\n", names.last().unwrap()));
        let p = TlogPolicy::parse(text.as_bytes()).unwrap();
        prop_assert_eq!(TlogPolicy::parse(&p.to_bytes()).unwrap(), p.clone());
        // All witnesses always satisfy the quorum; none never does.
        let all: Vec<usize> = (0..n_witnesses).collect();
        prop_assert!(p.quorum_met(&all));
        prop_assert!(!p.quorum_met(&[]));
    }

    /// Arbitrary bytes never panic the parser, and what parses round-trips.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        if let Ok(p) = TlogPolicy::parse(&bytes) {
            prop_assert_eq!(TlogPolicy::parse(&p.to_bytes()).unwrap(), p);
        }
    }
}
