//! The ready file: once a server listens, it writes the addresses it bound
//! as `name=<address>` lines (`grpc=127.0.0.1:7300`, `http=...`), so that
//! scripts and tests started with port 0 learn the ports and that it is up.

use std::net::SocketAddr;
use std::path::Path;

/// Writes one `name=<address>` line per entry to `path`, atomically: the
/// text goes to `<path>.tmp` (the extension replaced) and is renamed over
/// `path`, so a reader polling for the file never sees part of it.
pub fn write(path: &Path, addresses: &[(&str, SocketAddr)]) -> std::io::Result<()> {
    let text: String = addresses
        .iter()
        .map(|(name, addr)| format!("{name}={addr}\n"))
        .collect();
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_no_leftover() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ready");
        let grpc: SocketAddr = "127.0.0.1:7300".parse().unwrap();
        let http: SocketAddr = "127.0.0.1:7301".parse().unwrap();
        write(&path, &[("grpc", grpc), ("http", http)]).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "grpc=127.0.0.1:7300\nhttp=127.0.0.1:7301\n"
        );
        assert!(!dir.path().join("ready.tmp").exists());
        // A second start replaces the file.
        write(&path, &[("http", http)]).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "http=127.0.0.1:7301\n"
        );
    }
}
