//! [`Bucket`]: reads bounded in size and time, and writes, of the
//! objects of [`crate::layout`].

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use object_store::path::Path as ObjectPath;
use object_store::{
    BackoffConfig, GetOptions, ObjectStore, PutMode, PutOptions, PutPayload, RetryConfig,
    UpdateVersion,
};

use crate::config::{BucketConfig, Credentials};
use crate::connector::HyperConnector;

/// Why a bucket operation failed.
#[derive(Debug, thiserror::Error)]
pub enum BucketError {
    /// The settings or credentials are unusable.
    #[error("{0}")]
    Config(String),
    /// The object is larger than the reader allows.
    #[error("object {name} is {size} bytes, over the limit of {max}")]
    TooLarge {
        /// The object.
        name: String,
        /// Its size.
        size: u64,
        /// The limit.
        max: u64,
    },
    /// The store did not answer in time.
    #[error("{operation} {name}: no answer within {} ms", .timeout.as_millis())]
    Timeout {
        /// `GET` or `PUT`.
        operation: &'static str,
        /// The object.
        name: String,
        /// The limit.
        timeout: Duration,
    },
    /// A conditional write found another version of the object than the
    /// one expected: someone else wrote it.
    #[error("PUT {name}: the object changed since it was last read or written (another writer?)")]
    Changed {
        /// The object.
        name: String,
    },
    /// The store answered with an error.
    #[error("{operation} {name}: {source}")]
    Store {
        /// `GET` or `PUT`.
        operation: &'static str,
        /// The object.
        name: String,
        /// The client's error.
        source: object_store::Error,
    },
}

/// An object read from the bucket.
#[derive(Clone, Debug)]
pub struct Object {
    /// Its bytes.
    pub bytes: Bytes,
    /// Its entity tag, if the store gave one.
    pub e_tag: Option<String>,
}

/// A bucket (and prefix) holding one log.
#[derive(Clone, Debug)]
pub struct Bucket {
    store: Arc<dyn ObjectStore>,
    prefix: String,
    timeout: Duration,
    describe: String,
    conditional: bool,
}

impl Bucket {
    /// An S3 client for `config`, signing with `credentials`. Makes no
    /// request.
    pub fn open(config: &BucketConfig, credentials: &Credentials) -> Result<Bucket, BucketError> {
        config.validate()?;
        let timeout = config.timeout();
        let conditional = if config.conditional_put {
            object_store::aws::S3ConditionalPut::ETagMatch
        } else {
            object_store::aws::S3ConditionalPut::Disabled
        };
        let store = object_store::aws::AmazonS3Builder::new()
            .with_conditional_put(conditional)
            .with_endpoint(&config.endpoint)
            .with_allow_http(config.endpoint.starts_with("http://"))
            .with_bucket_name(&config.bucket)
            .with_region(&config.region)
            .with_access_key_id(&credentials.access_key_id)
            .with_secret_access_key(&credentials.secret_access_key)
            .with_virtual_hosted_style_request(false)
            .with_http_connector(HyperConnector { timeout })
            .with_retry(RetryConfig {
                backoff: BackoffConfig {
                    init_backoff: Duration::from_millis(50),
                    max_backoff: Duration::from_secs(1),
                    base: 2.0,
                },
                max_retries: 3,
                retry_timeout: timeout,
            })
            .build()
            .map_err(|e| BucketError::Config(format!("object store {}: {e}", config.describe())))?;
        Ok(Bucket {
            store: Arc::new(store),
            prefix: config.prefix.clone(),
            timeout,
            describe: config.describe(),
            conditional: config.conditional_put,
        })
    }

    /// A bucket over any [`ObjectStore`] (unit tests use
    /// `object_store::memory::InMemory`).
    pub fn from_store(store: Arc<dyn ObjectStore>, prefix: &str, timeout: Duration) -> Bucket {
        Bucket {
            store,
            prefix: prefix.to_owned(),
            timeout,
            describe: format!("object store with prefix {prefix:?}"),
            conditional: false,
        }
    }

    /// This bucket, with conditional writes ([`Bucket::put_if`]) on: only
    /// for a store that honours them (see
    /// [`BucketConfig::conditional_put`]).
    pub fn with_conditional_put(mut self, on: bool) -> Bucket {
        self.conditional = on;
        self
    }

    /// Whether [`Bucket::put_if`] writes conditionally.
    pub fn conditional_put(&self) -> bool {
        self.conditional
    }

    /// Where the bucket is, for messages.
    pub fn describe(&self) -> &str {
        &self.describe
    }

    fn path(&self, name: &str) -> ObjectPath {
        if self.prefix.is_empty() {
            ObjectPath::from(name)
        } else {
            ObjectPath::from(format!("{}/{name}", self.prefix))
        }
    }

    /// Reads object `name` if it exists, refusing one over `max_bytes`
    /// before reading its body.
    pub async fn get(&self, name: &str, max_bytes: u64) -> Result<Option<Object>, BucketError> {
        let path = self.path(name);
        let read = async {
            let result = match self.store.get_opts(&path, GetOptions::default()).await {
                Ok(r) => r,
                Err(object_store::Error::NotFound { .. }) => return Ok(None),
                Err(source) => {
                    return Err(BucketError::Store {
                        operation: "GET",
                        name: name.to_owned(),
                        source,
                    })
                }
            };
            let size = result.meta.size;
            if size > max_bytes {
                return Err(BucketError::TooLarge {
                    name: name.to_owned(),
                    size,
                    max: max_bytes,
                });
            }
            let e_tag = result.meta.e_tag.clone();
            let bytes = result.bytes().await.map_err(|source| BucketError::Store {
                operation: "GET",
                name: name.to_owned(),
                source,
            })?;
            // The length was announced; a body that differs is a broken
            // or hostile store.
            if bytes.len() as u64 > max_bytes {
                return Err(BucketError::TooLarge {
                    name: name.to_owned(),
                    size: bytes.len() as u64,
                    max: max_bytes,
                });
            }
            Ok(Some(Object { bytes, e_tag }))
        };
        tokio::time::timeout(self.timeout, read)
            .await
            .map_err(|_| BucketError::Timeout {
                operation: "GET",
                name: name.to_owned(),
                timeout: self.timeout,
            })?
    }

    /// Writes object `name` (replacing it).
    pub async fn put(&self, name: &str, bytes: Bytes) -> Result<(), BucketError> {
        self.write(name, bytes, PutMode::Overwrite)
            .await
            .map(|_| ())
    }

    /// Writes object `name` only if it is still the version with entity
    /// tag `expected` (`None`: only if it does not exist), failing with
    /// [`BucketError::Changed`] otherwise; returns the new entity tag.
    /// Without conditional writes it writes unconditionally (the caller
    /// checks the current object first).
    pub async fn put_if(
        &self,
        name: &str,
        bytes: Bytes,
        expected: Option<&str>,
    ) -> Result<Option<String>, BucketError> {
        let mode = match (self.conditional, expected) {
            (false, _) => PutMode::Overwrite,
            (true, None) => PutMode::Create,
            (true, Some(e_tag)) => PutMode::Update(UpdateVersion {
                e_tag: Some(e_tag.to_owned()),
                version: None,
            }),
        };
        self.write(name, bytes, mode).await
    }

    /// One PUT with `mode`, bounded in time; the new entity tag.
    async fn write(
        &self,
        name: &str,
        bytes: Bytes,
        mode: PutMode,
    ) -> Result<Option<String>, BucketError> {
        let path = self.path(name);
        let write =
            self.store
                .put_opts(&path, PutPayload::from_bytes(bytes), PutOptions::from(mode));
        match tokio::time::timeout(self.timeout, write).await {
            Ok(Ok(r)) => Ok(r.e_tag),
            Ok(Err(
                object_store::Error::Precondition { .. }
                | object_store::Error::AlreadyExists { .. },
            )) => Err(BucketError::Changed {
                name: name.to_owned(),
            }),
            Ok(Err(source)) => Err(BucketError::Store {
                operation: "PUT",
                name: name.to_owned(),
                source,
            }),
            Err(_) => Err(BucketError::Timeout {
                operation: "PUT",
                name: name.to_owned(),
                timeout: self.timeout,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::memory::InMemory;

    #[tokio::test]
    async fn reads_are_bounded_and_prefixed() {
        let mem = Arc::new(InMemory::new());
        let bucket = Bucket::from_store(mem.clone(), "logs/a", Duration::from_secs(5));
        assert!(bucket.get("checkpoint", 10).await.unwrap().is_none());
        bucket
            .put("checkpoint", Bytes::from_static(b"0123456789"))
            .await
            .unwrap();
        let o = bucket.get("checkpoint", 10).await.unwrap().unwrap();
        assert_eq!(&o.bytes[..], b"0123456789");
        assert!(matches!(
            bucket.get("checkpoint", 9).await,
            Err(BucketError::TooLarge {
                size: 10,
                max: 9,
                ..
            })
        ));
        // The object is under the prefix, and nowhere else.
        let other = Bucket::from_store(mem, "", Duration::from_secs(5));
        assert!(other.get("checkpoint", 10).await.unwrap().is_none());
        assert!(other.get("logs/a/checkpoint", 10).await.unwrap().is_some());
    }

    #[tokio::test]
    async fn conditional_writes_refuse_a_changed_object() {
        let mem = Arc::new(InMemory::new());
        let bucket =
            Bucket::from_store(mem.clone(), "", Duration::from_secs(5)).with_conditional_put(true);
        let first = bucket
            .put_if("checkpoint", Bytes::from_static(b"1"), None)
            .await
            .unwrap();
        // Create when it exists: refused.
        assert!(matches!(
            bucket
                .put_if("checkpoint", Bytes::from_static(b"x"), None)
                .await,
            Err(BucketError::Changed { .. })
        ));
        let second = bucket
            .put_if("checkpoint", Bytes::from_static(b"2"), first.as_deref())
            .await
            .unwrap();
        // Another writer replaces it; the stale tag is refused.
        let other = Bucket::from_store(mem, "", Duration::from_secs(5));
        other
            .put("checkpoint", Bytes::from_static(b"3"))
            .await
            .unwrap();
        assert!(matches!(
            bucket
                .put_if("checkpoint", Bytes::from_static(b"4"), second.as_deref())
                .await,
            Err(BucketError::Changed { .. })
        ));
        let now = bucket.get("checkpoint", 10).await.unwrap().unwrap();
        assert_eq!(&now.bytes[..], b"3");
    }
}
