//! Property tests of the `allowed_signers` reader: a line written from
//! generated principals, namespaces and times parses back to the same
//! fields, whatever the quoting; and pattern-list matching agrees with a
//! plain recursive reading of OpenSSH's `match_pattern` rules.

use attestlog_attest::ssh::allowed_signers::match_pattern_list;
use attestlog_attest::ssh::AllowedSigners;
use proptest::prelude::*;

/// A fixed Ed25519 public key, OpenSSH format.
const KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOmbhhzYfSRqGsfYPIAcJgSdw4Ksk1s/O1tKmFMB2rL5 k@test";

/// `*` any run, `?` one character, else itself: the definition, written
/// recursively.
fn naive(s: &[char], p: &[char]) -> bool {
    match p.split_first() {
        None => s.is_empty(),
        Some(('*', rest)) => (0..=s.len()).any(|i| naive(&s[i..], rest)),
        Some((&c, rest)) => s
            .split_first()
            .is_some_and(|(&h, tail)| (c == '?' || c == h) && naive(tail, rest)),
    }
}

/// Days from 1970-01-01, counted year by year and month by month.
fn naive_days(year: u64, month: u64, day: u64) -> u64 {
    let leap = |y: u64| y.is_multiple_of(4) && (!y.is_multiple_of(100) || y.is_multiple_of(400));
    let mut days = (1970..year)
        .map(|y| if leap(y) { 366 } else { 365 })
        .sum::<u64>();
    let lengths = [
        31,
        if leap(year) { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    days += lengths[..(month - 1) as usize].iter().sum::<u64>();
    days + day - 1
}

fn naive_list(s: &str, patterns: &[String]) -> bool {
    let s: Vec<char> = s.chars().collect();
    let mut matched = false;
    for p in patterns {
        let (negated, p) = match p.strip_prefix('!') {
            Some(p) => (true, p),
            None => (false, p.as_str()),
        };
        let p: Vec<char> = p.chars().collect();
        if naive(&s, &p) {
            if negated {
                return false;
            }
            matched = true;
        }
    }
    matched
}

proptest! {
    #[test]
    fn pattern_lists_match_as_defined(
        s in "[ab.@]{0,8}",
        patterns in prop::collection::vec("!?[ab.@*?]{0,6}", 1..4),
    ) {
        prop_assert_eq!(match_pattern_list(&s, &patterns), naive_list(&s, &patterns));
    }

    #[test]
    fn lines_parse_back(
        principals in prop::collection::vec("[a-z0-9.@*!-]{1,12}", 1..4),
        namespaces in prop::option::of(prop::collection::vec("[a-z0-9*-]{1,10}", 1..3)),
        after in prop::option::of((1970u64..2100, 1u64..13, 1u64..29, 0u64..24, 0u64..60, 0u64..60)),
        quoted in any::<bool>(),
    ) {
        let joined = principals.join(",");
        let mut line = if quoted { format!("\"{joined}\"") } else { joined };
        let mut options = Vec::new();
        if let Some(ns) = &namespaces {
            options.push(format!("namespaces=\"{}\"", ns.join(",")));
        }
        if let Some((y, mo, d, h, mi, s)) = after {
            options.push(format!("valid-after=\"{y:04}{mo:02}{d:02}{h:02}{mi:02}{s:02}Z\""));
        }
        if !options.is_empty() {
            line.push(' ');
            line.push_str(&options.join(","));
        }
        line.push(' ');
        line.push_str(KEY);
        let parsed = AllowedSigners::parse(&line).unwrap();
        prop_assert_eq!(parsed.entries.len(), 1);
        let e = &parsed.entries[0];
        prop_assert_eq!(&e.principals, &principals);
        prop_assert_eq!(&e.namespaces, &namespaces);
        prop_assert_eq!(e.valid_after.is_some(), after.is_some());
        if let (Some(t), Some((y, mo, d, h, mi, s))) = (e.valid_after, after) {
            prop_assert_eq!(t, naive_days(y, mo, d) * 86_400 + h * 3_600 + mi * 60 + s);
        }
    }
}
