//! Starting the real `attestlog-witness` on 127.0.0.1: the one launcher
//! shared by the end-to-end tests (`tests/tests/`) and the witness crate's
//! own tests (`witness/tests/`, which may use this crate because it does
//! not depend on the server crate).
//!
//! [`Witness::start`] writes the witness's key and configuration file
//! ([`WitnessConfig`]) into a directory of its own and starts `serve` with
//! a ready file; the directory (key, configuration, state, `witness.log`)
//! outlives the process, so [`Witness::restart`] starts the same witness
//! again.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::Context as _;
use attestlog_core::note::SignerKey;

use crate::{bin, wait_ready};

/// A log the witness cosigns: one `[[log]]` table of its configuration.
#[derive(Clone, Debug)]
pub struct WitnessedLog {
    /// The log's origin line.
    pub origin: String,
    /// The log's note verifier key, as a key string.
    pub key: String,
    /// Where the witness reads the log's tiles (`tiles_url`), if anywhere.
    pub tiles_url: Option<String>,
}

/// What a witness is started with: the contents of its configuration file.
#[derive(Clone, Debug)]
pub struct WitnessConfig {
    /// The witness's cosignature key; its name is the witness's name.
    pub key: SignerKey,
    /// `listen`: `127.0.0.1:0` (any free port) unless set.
    pub listen: String,
    /// `[gossip] peers`: the URLs of the other witnesses.
    pub peers: Vec<String>,
    /// `[gossip] interval_ms`.
    pub gossip_interval_ms: u64,
    /// `[gossip] timeout_ms`, or the witness's default.
    pub gossip_timeout_ms: Option<u64>,
    /// `[gossip] max_in_flight`, or the witness's default.
    pub gossip_max_in_flight: Option<usize>,
    /// The logs it cosigns.
    pub logs: Vec<WitnessedLog>,
    /// Appended to the configuration file as it is (e.g. an `[http]`
    /// table).
    pub extra_config: String,
}

impl WitnessConfig {
    /// A witness with `key` on any free port, gossiping every 200 ms with
    /// no peers, cosigning no log yet.
    pub fn new(key: SignerKey) -> WitnessConfig {
        WitnessConfig {
            key,
            listen: "127.0.0.1:0".into(),
            peers: Vec::new(),
            gossip_interval_ms: 200,
            gossip_timeout_ms: None,
            gossip_max_in_flight: None,
            logs: Vec::new(),
            extra_config: String::new(),
        }
    }

    /// The configuration file, naming `key_file` and `data_dir`.
    pub fn to_toml(&self, key_file: &Path, data_dir: &Path) -> String {
        let peers: Vec<String> = self.peers.iter().map(|p| format!("\"{p}\"")).collect();
        let mut cfg = format!(
            "name = \"{}\"\nkey_file = \"{}\"\ndata_dir = \"{}\"\nlisten = \"{}\"\n\n[gossip]\npeers = [{}]\ninterval_ms = {}\n",
            self.key.name(),
            key_file.display(),
            data_dir.display(),
            self.listen,
            peers.join(", "),
            self.gossip_interval_ms,
        );
        if let Some(t) = self.gossip_timeout_ms {
            cfg.push_str(&format!("timeout_ms = {t}\n"));
        }
        if let Some(n) = self.gossip_max_in_flight {
            cfg.push_str(&format!("max_in_flight = {n}\n"));
        }
        for log in &self.logs {
            cfg.push_str(&format!(
                "\n[[log]]\norigin = \"{}\"\nkey = \"{}\"\n",
                log.origin, log.key
            ));
            if let Some(t) = &log.tiles_url {
                cfg.push_str(&format!("tiles_url = \"{t}\"\n"));
            }
        }
        cfg.push_str(&self.extra_config);
        cfg
    }
}

/// A running `attestlog-witness serve`; killed when dropped.
pub struct Witness {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its directory: `witness.key`, `witness.toml`, `state/`, `witness.log`.
    pub dir: PathBuf,
    child: Child,
}

impl Witness {
    /// Writes `config` into `dir/witness.toml` (and the key into
    /// `dir/witness.key`, unless one is there already), starts the witness
    /// and waits (at most 30 s) until it listens.
    pub fn start(dir: &Path, config: &WitnessConfig) -> anyhow::Result<Witness> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let key_file = dir.join("witness.key");
        if !key_file.exists() {
            std::fs::write(&key_file, format!("{}\n", config.key.to_key_string()))?;
        }
        std::fs::write(
            dir.join("witness.toml"),
            config.to_toml(&key_file, &dir.join("state")),
        )?;
        Witness::spawn(dir)
    }

    /// Stops the witness (SIGKILL) and starts it again on the same
    /// directory, configuration and state.
    pub fn restart(self) -> anyhow::Result<Witness> {
        let dir = self.dir.clone();
        drop(self);
        Witness::spawn(&dir)
    }

    fn spawn(dir: &Path) -> anyhow::Result<Witness> {
        let ready = dir.join("ready");
        let _ = std::fs::remove_file(&ready);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("witness.log"))?;
        let child = Command::new(bin("attestlog-witness"))
            .arg("serve")
            .arg("--config")
            .arg(dir.join("witness.toml"))
            .arg("--ready-file")
            .arg(&ready)
            .args(["--log-level", "attestlog_witness=debug,info"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .context("starting attestlog-witness")?;
        let mut witness = Witness {
            addr: "127.0.0.1:0".parse()?,
            dir: dir.to_owned(),
            child,
        };
        let log_file = dir.join("witness.log");
        witness.addr = wait_ready(
            "attestlog-witness",
            &mut witness.child,
            &ready,
            &log_file,
            crate::READY_TIMEOUT,
            |text| Ok(ready_address(text)),
        )?;
        Ok(witness)
    }

    /// Its stderr so far, over every start.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("witness.log")).unwrap_or_default()
    }

    /// Its base URL, `http://<addr>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

/// The address in a ready file, once the witness has written all of it:
/// `http=<addr>\n` (a line without its end is still being written).
fn ready_address(text: &str) -> Option<SocketAddr> {
    text.strip_suffix('\n')?
        .strip_prefix("http=")?
        .trim()
        .parse()
        .ok()
}

impl Drop for Witness {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use attestlog_core::note::KeyType;

    use super::*;

    fn config() -> WitnessConfig {
        let key =
            SignerKey::from_seed("w.test", KeyType::Cosignature, [7; 32]).expect("witness key");
        let mut c = WitnessConfig::new(key);
        c.peers = vec!["http://127.0.0.1:9".into()];
        c.logs = vec![WitnessedLog {
            origin: "log.test".into(),
            key: "log.test+00000000+AAAA".into(),
            tiles_url: Some("http://127.0.0.1:8".into()),
        }];
        c
    }

    /// Pins the configuration file both kinds of test wrote before they
    /// shared this launcher: without the optional gossip settings (the
    /// e2e tests' witnesses keep the witness's defaults) and with them
    /// (the witness crate's tests), then `extra_config` verbatim.
    #[test]
    fn the_configuration_file_is_what_the_tests_wrote() {
        let (key_file, data_dir) = (Path::new("/w/witness.key"), Path::new("/w/state"));
        let mut c = config();
        assert_eq!(
            c.to_toml(key_file, data_dir),
            "name = \"w.test\"\nkey_file = \"/w/witness.key\"\ndata_dir = \"/w/state\"\n\
             listen = \"127.0.0.1:0\"\n\n[gossip]\npeers = [\"http://127.0.0.1:9\"]\n\
             interval_ms = 200\n\n[[log]]\norigin = \"log.test\"\n\
             key = \"log.test+00000000+AAAA\"\ntiles_url = \"http://127.0.0.1:8\"\n"
        );
        c.gossip_timeout_ms = Some(1000);
        c.gossip_max_in_flight = Some(8);
        c.extra_config = "\n[http]\nmax_add_checkpoint_in_flight = 1\n".into();
        let text = c.to_toml(key_file, data_dir);
        assert!(
            text.contains("interval_ms = 200\ntimeout_ms = 1000\nmax_in_flight = 8\n\n[[log]]"),
            "{text}"
        );
        assert!(
            text.ends_with(
                "tiles_url = \"http://127.0.0.1:8\"\n\n[http]\nmax_add_checkpoint_in_flight = 1\n"
            ),
            "{text}"
        );
    }

    /// A ready file counts only once its line is complete: a half-written
    /// `http=127.0.0.1:4` could name another port.
    #[test]
    fn a_half_written_ready_file_is_not_ready() {
        assert_eq!(ready_address(""), None);
        assert_eq!(ready_address("http=127.0.0.1:4"), None);
        assert_eq!(
            ready_address("http=127.0.0.1:4567\n"),
            Some("127.0.0.1:4567".parse().expect("address"))
        );
        assert_eq!(ready_address("grpc=127.0.0.1:4567\n"), None);
    }
}
