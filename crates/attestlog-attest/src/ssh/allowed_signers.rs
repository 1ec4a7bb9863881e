//! OpenSSH `allowed_signers` files (ssh-keygen(1), "ALLOWED SIGNERS"):
//! which keys may sign, for which principals, namespaces and times.
//!
//! A line is `principals [options] keytype base64-key [comment]`:
//! principals are a comma-separated pattern list (`*` and `?` wildcards,
//! `!` negation), options a comma-separated list of `cert-authority`,
//! `namespaces="pattern,..."`, `valid-after="time"` and
//! `valid-before="time"` (time `YYYYMMDD[HHMM[SS]]`, optionally with a
//! trailing `Z`). Blank lines and `#` comments are skipped.
//!
//! Differences from OpenSSH, on purpose: a time without `Z` is read as
//! UTC (OpenSSH reads it in the local time zone, which a log server
//! should not depend on); `cert-authority` lines are parsed but never
//! match, because attestlog does not accept SSH certificates; an unknown
//! option is an error, naming its line; and the principals of a key
//! ([`AllowedSigners::principals_for`]) respect `namespaces=`.

use ssh_key::public::KeyData;

/// The largest `allowed_signers` text accepted, in bytes.
pub const MAX_ALLOWED_SIGNERS_SIZE: usize = 16 * 1024 * 1024;
/// The longest line accepted, in bytes (an RSA-4096 key is under 1 KiB).
pub const MAX_LINE_SIZE: usize = 16 * 1024;

/// Why an `allowed_signers` file is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AllowedSignersError {
    /// Larger than [`MAX_ALLOWED_SIGNERS_SIZE`].
    #[error("allowed_signers of {0} bytes is over the limit of {MAX_ALLOWED_SIGNERS_SIZE}")]
    TooLarge(usize),
    /// One line is wrong.
    #[error("allowed_signers line {line}: {reason}")]
    Line {
        /// The line number, from 1.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
}

/// One line of an `allowed_signers` file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AllowedSigner {
    /// The principal patterns, as written (comma-separated in the file).
    pub principals: Vec<String>,
    /// `cert-authority`: the key signs certificates (never matches here).
    pub cert_authority: bool,
    /// `namespaces=`: the namespace patterns allowed; `None` allows all.
    pub namespaces: Option<Vec<String>>,
    /// `valid-after=`, in seconds since the Unix epoch (inclusive).
    pub valid_after: Option<u64>,
    /// `valid-before=`, in seconds since the Unix epoch (inclusive).
    pub valid_before: Option<u64>,
    /// The signer's public key.
    pub key: KeyData,
}

impl AllowedSigner {
    /// Whether this line lets `key` sign in `namespace` at `at` (seconds
    /// since the epoch), whoever the principal.
    pub fn admits(&self, key: &KeyData, namespace: &str, at: u64) -> bool {
        !self.cert_authority
            && &self.key == key
            && self
                .namespaces
                .as_ref()
                .is_none_or(|patterns| match_pattern_list(namespace, patterns))
            && self.valid_after.is_none_or(|t| at >= t)
            && self.valid_before.is_none_or(|t| at <= t)
    }
}

/// A parsed `allowed_signers` file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AllowedSigners {
    /// Its lines, in file order.
    pub entries: Vec<AllowedSigner>,
}

impl AllowedSigners {
    /// Parses a whole file; any wrong line refuses it all, naming the line.
    pub fn parse(text: &str) -> Result<AllowedSigners, AllowedSignersError> {
        if text.len() > MAX_ALLOWED_SIGNERS_SIZE {
            return Err(AllowedSignersError::TooLarge(text.len()));
        }
        let mut entries = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let bad = |reason: String| AllowedSignersError::Line {
                line: i + 1,
                reason,
            };
            if line.len() > MAX_LINE_SIZE {
                return Err(bad(format!("longer than {MAX_LINE_SIZE} bytes")));
            }
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            entries.push(parse_line(line).map_err(bad)?);
        }
        Ok(AllowedSigners { entries })
    }

    /// The principals `key` may sign as in `namespace` at `at` (seconds
    /// since the epoch): every principal pattern of every line that
    /// admits it, in file order. `ssh-keygen -Y find-principals` lists
    /// the same for a key on one line, but ignores `namespaces=`.
    pub fn principals_for(&self, key: &KeyData, namespace: &str, at: u64) -> Vec<&str> {
        self.entries
            .iter()
            .filter(|e| e.admits(key, namespace, at))
            .flat_map(|e| e.principals.iter().map(String::as_str))
            .collect()
    }

    /// Whether `key` may sign as `identity` in `namespace` at `at`, as
    /// `ssh-keygen -Y verify -I identity` decides: some line admitting the
    /// key has a principal pattern list that `identity` matches.
    pub fn allows(&self, identity: &str, key: &KeyData, namespace: &str, at: u64) -> bool {
        self.entries
            .iter()
            .any(|e| e.admits(key, namespace, at) && match_pattern_list(identity, &e.principals))
    }
}

/// Parses one non-empty, non-comment line.
fn parse_line(line: &str) -> Result<AllowedSigner, String> {
    let (principals, rest) = next_field(line)?;
    if principals.is_empty() {
        return Err("no principals".into());
    }
    let principals: Vec<String> = principals.split(',').map(str::to_owned).collect();
    if principals.iter().any(String::is_empty) {
        return Err("an empty principal".into());
    }
    let rest = rest.trim_start();
    // Options come before the key type when the next field is not a key.
    let (options, key_text) = match ssh_key::PublicKey::from_openssh(rest) {
        Ok(_) => ("", rest),
        Err(_) => {
            let (options, after) = next_field(rest)?;
            (options, after.trim_start())
        }
    };
    let key = ssh_key::PublicKey::from_openssh(key_text)
        .map_err(|e| format!("no OpenSSH public key after the principals and options: {e}"))?;
    let mut signer = AllowedSigner {
        principals,
        cert_authority: false,
        namespaces: None,
        valid_after: None,
        valid_before: None,
        key: key.key_data().clone(),
    };
    for option in split_options(options)? {
        let (name, value) = match option.split_once('=') {
            Some((n, v)) => (n, Some(unquote(v)?)),
            None => (option, None),
        };
        match (name.to_ascii_lowercase().as_str(), value) {
            ("cert-authority", None) => signer.cert_authority = true,
            ("namespaces", Some(v)) => {
                signer.namespaces = Some(v.split(',').map(str::to_owned).collect())
            }
            ("valid-after", Some(v)) => signer.valid_after = Some(parse_time(v)?),
            ("valid-before", Some(v)) => signer.valid_before = Some(parse_time(v)?),
            _ => return Err(format!("unknown or malformed option {option:?}")),
        }
    }
    Ok(signer)
}

/// The first whitespace-delimited field of `s` (a double-quoted one may
/// hold whitespace; the quotes are removed), and the rest.
fn next_field(s: &str) -> Result<(&str, &str), String> {
    if let Some(quoted) = s.strip_prefix('"') {
        let end = quoted.find('"').ok_or("an unterminated quote")?;
        return Ok((&quoted[..end], &quoted[end + 1..]));
    }
    // Options may quote values that hold spaces: `namespaces="a, b"`.
    let mut in_quotes = false;
    for (i, c) in s.char_indices() {
        match c {
            '"' => in_quotes = !in_quotes,
            c if c.is_whitespace() && !in_quotes => return Ok((&s[..i], &s[i..])),
            _ => {}
        }
    }
    if in_quotes {
        return Err("an unterminated quote".into());
    }
    Ok((s, ""))
}

/// Splits an options field at the commas outside double quotes.
fn split_options(options: &str) -> Result<Vec<&str>, String> {
    if options.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    let (mut start, mut in_quotes) = (0, false);
    for (i, c) in options.char_indices() {
        match c {
            '"' => in_quotes = !in_quotes,
            ',' if !in_quotes => {
                out.push(&options[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&options[start..]);
    if out.iter().any(|o| o.is_empty()) {
        return Err("an empty option".into());
    }
    Ok(out)
}

/// An option value: `"text"` or bare text.
fn unquote(v: &str) -> Result<&str, String> {
    match v.strip_prefix('"') {
        Some(inner) => inner
            .strip_suffix('"')
            .filter(|s| !s.contains('"'))
            .ok_or_else(|| format!("a badly quoted value {v:?}")),
        None if v.contains('"') => Err(format!("a badly quoted value {v:?}")),
        None => Ok(v),
    }
}

/// `YYYYMMDD`, `YYYYMMDDHHMM` or `YYYYMMDDHHMMSS`, optionally followed by
/// `Z`, read as UTC: seconds since the epoch.
fn parse_time(v: &str) -> Result<u64, String> {
    let digits = v.strip_suffix(['Z', 'z']).unwrap_or(v);
    let bad = || format!("a bad time {v:?} (YYYYMMDD[HHMM[SS]][Z])");
    if !matches!(digits.len(), 8 | 12 | 14) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let num = |r: std::ops::Range<usize>| digits.get(r).map_or(Ok(0), str::parse::<u64>);
    let (year, month, day) = (
        num(0..4).map_err(|_| bad())?,
        num(4..6).map_err(|_| bad())?,
        num(6..8).map_err(|_| bad())?,
    );
    let (hour, minute, second) = (
        num(8..10).map_err(|_| bad())?,
        num(10..12).map_err(|_| bad())?,
        num(12..14).map_err(|_| bad())?,
    );
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        _ => return Err(bad()),
    };
    if year < 1970 || day == 0 || day > days_in_month || hour > 23 || minute > 59 || second > 59 {
        return Err(bad());
    }
    Ok(days_from_civil(year, month, day) * 86_400 + hour * 3_600 + minute * 60 + second)
}

/// Days from 1970-01-01 to a proleptic Gregorian date on or after it
/// (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// OpenSSH's `match_pattern_list`: `s` matches the list if it matches a
/// pattern and no negated (`!`) pattern; a negated match wins.
pub fn match_pattern_list(s: &str, patterns: &[String]) -> bool {
    let mut matched = false;
    for p in patterns {
        match p.strip_prefix('!') {
            Some(negated) if match_pattern(s, negated) => return false,
            Some(_) => {}
            None => matched |= match_pattern(s, p),
        }
    }
    matched
}

/// OpenSSH's `match_pattern`: `*` matches any run of characters, `?` any
/// one character, everything else itself.
fn match_pattern(s: &str, pattern: &str) -> bool {
    let (s, p): (Vec<char>, Vec<char>) = (s.chars().collect(), pattern.chars().collect());
    // Iterative wildcard matching with one backtrack point: linear in
    // practice, never exponential.
    let (mut si, mut pi) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == s[si]) {
            si += 1;
            pi += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, si));
            pi += 1;
        } else if let Some((sp, ss)) = star {
            pi = sp + 1;
            si = ss + 1;
            star = Some((sp, ss + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_utc_seconds() {
        assert_eq!(parse_time("19700101"), Ok(0));
        assert_eq!(parse_time("19700102Z"), Ok(86_400));
        assert_eq!(parse_time("20000301000000"), Ok(951_868_800));
        assert_eq!(parse_time("202402291230"), Ok(1_709_209_800));
        for bad in [
            "2023022",
            "20230229",
            "20231301",
            "20230101246000",
            "2023-01-01",
            "",
        ] {
            assert!(parse_time(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn patterns_match_as_openssh() {
        let list = |l: &str| l.split(',').map(str::to_owned).collect::<Vec<_>>();
        assert!(match_pattern_list(
            "alice@example.org",
            &list("*@example.org")
        ));
        assert!(match_pattern_list("git", &list("file,git")));
        assert!(!match_pattern_list("gitx", &list("file,git")));
        assert!(match_pattern_list("a", &list("?")));
        assert!(!match_pattern_list(
            "eve@example.org",
            &list("*@example.org,!eve@*")
        ));
        assert!(!match_pattern_list("x", &list("!y")));
        assert!(match_pattern("abcabd", "*abd"));
        assert!(!match_pattern("ab", "a?b"));
    }

    #[test]
    fn fields_and_options_split_outside_quotes() {
        assert_eq!(
            next_field("\"a b\" rest"),
            Ok(("a b", " rest")),
            "a quoted principal"
        );
        assert_eq!(
            split_options("namespaces=\"git,file\",cert-authority"),
            Ok(vec!["namespaces=\"git,file\"", "cert-authority"])
        );
        assert!(split_options("a,,b").is_err());
        assert!(next_field("\"open").is_err());
    }
}
