//! A bucket's settings (`[object_store]` in the server's configuration)
//! and its credentials, which come from the environment or a file, never
//! from the configuration itself.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::BucketError;

/// Environment variable holding the access key ID.
pub const ACCESS_KEY_ID_VAR: &str = "AWS_ACCESS_KEY_ID";
/// Environment variable holding the secret access key.
pub const SECRET_ACCESS_KEY_VAR: &str = "AWS_SECRET_ACCESS_KEY";

/// Default time for one request (connect, send, headers) and for reading
/// one object's body.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the bucket is.
///
/// ```toml
/// [object_store]
/// endpoint = "http://127.0.0.1:3900"   # S3 API (path-style requests)
/// bucket = "attestlog"
/// region = "garage"                    # what the store expects in signatures
/// prefix = "logs/main"                 # optional; objects go under it
/// credentials_file = "/etc/attestlog/s3.toml"  # optional; else AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY
/// timeout_ms = 10000                   # per request and per object body
/// conditional_put = false              # true where the store honours If-Match / If-None-Match on PUT
/// ```
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct BucketConfig {
    /// The S3 API endpoint, `http://` or `https://`.
    pub endpoint: String,
    /// The bucket name.
    pub bucket: String,
    /// The region the store expects in request signatures.
    #[serde(default = "default_region")]
    pub region: String,
    /// A path prefix for every object (no leading or trailing `/`).
    #[serde(default)]
    pub prefix: String,
    /// A TOML file with `access_key_id` and `secret_access_key`; if unset,
    /// the environment variables [`ACCESS_KEY_ID_VAR`] and
    /// [`SECRET_ACCESS_KEY_VAR`].
    #[serde(default)]
    pub credentials_file: Option<PathBuf>,
    /// Milliseconds per request and per object body.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// Whether the store honours `If-Match` and `If-None-Match` on PUT
    /// (AWS S3, MinIO, Cloudflare R2 do; Garage 2.5 does not): the
    /// checkpoint is then replaced only if it is still the object the
    /// writer last read or wrote. Without it the writer reads the object
    /// and checks it before each write instead.
    #[serde(default)]
    pub conditional_put: bool,
}

fn default_region() -> String {
    "us-east-1".into()
}

fn default_timeout_ms() -> u64 {
    DEFAULT_TIMEOUT.as_millis() as u64
}

impl BucketConfig {
    /// Checks the values: an `http(s)://` endpoint, a bucket name, a
    /// prefix of plain path segments, a non-zero timeout.
    pub fn validate(&self) -> Result<(), BucketError> {
        let bad = |m: String| Err(BucketError::Config(m));
        if !(self.endpoint.starts_with("http://") || self.endpoint.starts_with("https://")) {
            return bad(format!(
                "object_store endpoint {:?} must start with http:// or https://",
                self.endpoint
            ));
        }
        if self.bucket.is_empty() || self.bucket.contains('/') {
            return bad(format!(
                "object_store bucket {:?} is not a bucket name",
                self.bucket
            ));
        }
        if !self.prefix.is_empty()
            && self
                .prefix
                .split('/')
                .any(|s| s.is_empty() || s == "." || s == "..")
        {
            return bad(format!(
                "object_store prefix {:?} must be path segments separated by single slashes, without . or ..",
                self.prefix
            ));
        }
        if self.timeout_ms == 0 {
            return bad("object_store timeout_ms must be at least 1".into());
        }
        Ok(())
    }

    /// The request timeout.
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }

    /// `s3://bucket/prefix at endpoint`, for messages.
    pub fn describe(&self) -> String {
        let mut s = format!("s3://{}", self.bucket);
        if !self.prefix.is_empty() {
            s.push('/');
            s.push_str(&self.prefix);
        }
        format!("{s} at {}", self.endpoint)
    }
}

/// An access key pair.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    /// The access key ID.
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .finish()
    }
}

impl Credentials {
    /// The credentials for `config`: its `credentials_file` if set, else
    /// the environment.
    pub fn load(config: &BucketConfig) -> Result<Credentials, BucketError> {
        match &config.credentials_file {
            Some(path) => Credentials::from_file(path),
            None => Credentials::from_env(),
        }
    }

    /// Reads a TOML file with `access_key_id` and `secret_access_key`.
    pub fn from_file(path: &Path) -> Result<Credentials, BucketError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            BucketError::Config(format!("reading credentials {}: {e}", path.display()))
        })?;
        let c: Credentials = toml::from_str(&text).map_err(|e| {
            BucketError::Config(format!(
                "credentials {}: {} (expected access_key_id and secret_access_key)",
                path.display(),
                e.message()
            ))
        })?;
        c.check(&path.display().to_string())
    }

    /// Reads [`ACCESS_KEY_ID_VAR`] and [`SECRET_ACCESS_KEY_VAR`].
    pub fn from_env() -> Result<Credentials, BucketError> {
        let var = |name: &str| {
            std::env::var(name).map_err(|_| {
                BucketError::Config(format!(
                    "no object store credentials: set {ACCESS_KEY_ID_VAR} and {SECRET_ACCESS_KEY_VAR}, \
                     or credentials_file in [object_store] ({name} is unset)"
                ))
            })
        };
        Credentials {
            access_key_id: var(ACCESS_KEY_ID_VAR)?,
            secret_access_key: var(SECRET_ACCESS_KEY_VAR)?,
        }
        .check("the environment")
    }

    fn check(self, source: &str) -> Result<Credentials, BucketError> {
        if self.access_key_id.is_empty() || self.secret_access_key.is_empty() {
            return Err(BucketError::Config(format!(
                "object store credentials from {source} are empty"
            )));
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(toml_text: &str) -> BucketConfig {
        toml::from_str(toml_text).unwrap()
    }

    #[test]
    fn defaults_and_validation() {
        let c = config("endpoint = \"http://127.0.0.1:3900\"\nbucket = \"log\"\n");
        assert_eq!(c.region, "us-east-1");
        assert_eq!(c.timeout(), DEFAULT_TIMEOUT);
        c.validate().unwrap();
        for (field, value) in [
            ("endpoint", "127.0.0.1:3900"),
            ("bucket", "a/b"),
            ("prefix", "/x"),
            ("prefix", "x//y"),
            ("prefix", "x/../y"),
        ] {
            let mut bad = c.clone();
            match field {
                "endpoint" => bad.endpoint = value.into(),
                "bucket" => bad.bucket = value.into(),
                _ => bad.prefix = value.into(),
            }
            assert!(bad.validate().is_err(), "{field} = {value:?} accepted");
        }
        let mut ok = c.clone();
        ok.prefix = "logs/main".into();
        ok.validate().unwrap();
        assert!(
            toml::from_str::<BucketConfig>("endpoint = \"x\"\nbucket = \"b\"\nsecret = 1\n")
                .is_err()
        );
    }

    #[test]
    fn credentials_file_and_redaction() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s3.toml");
        std::fs::write(
            &path,
            "access_key_id = \"GK1\"\nsecret_access_key = \"s3cr3t\"\n",
        )
        .unwrap();
        let c = Credentials::from_file(&path).unwrap();
        assert_eq!(c.access_key_id, "GK1");
        assert!(!format!("{c:?}").contains("s3cr3t"));
        std::fs::write(&path, "access_key_id = \"GK1\"\n").unwrap();
        assert!(Credentials::from_file(&path).is_err());
        std::fs::write(&path, "access_key_id = \"\"\nsecret_access_key = \"x\"\n").unwrap();
        assert!(Credentials::from_file(&path).is_err());
    }
}
