//! A C2SP tlog-tiles server for a tree built in a test, on 127.0.0.1, in
//! threads: serves `tile/<L>/<N>[.p/<W>]` (hash tiles; entry bundles are
//! answered 404), optionally without the partial tiles a log may delete
//! once the full tile exists.

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use attestlog_core::tile::{read_tile, Tile, TilePath, TILE_WIDTH};
use attestlog_core::tree::InMemoryTree;

/// A tiles server; it runs until the test process ends.
pub struct TilesServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// The tree it serves (a test may grow it).
    pub tree: Arc<Mutex<InMemoryTree>>,
    /// How many requests for a deleted partial tile it answered 404.
    pub partials_refused: Arc<AtomicUsize>,
}

impl TilesServer {
    /// Serves every tile of `tree`, partial ones included.
    pub fn start(tree: InMemoryTree) -> TilesServer {
        TilesServer::run(tree, false)
    }

    /// Serves the tiles of `tree` as a log that deleted its superseded
    /// partial tiles does (C2SP tlog-tiles: "Logs MAY delete partial tiles
    /// once the corresponding full tile is available"): 404 for a partial
    /// tile whose full tile exists.
    pub fn start_without_superseded_partials(tree: InMemoryTree) -> TilesServer {
        TilesServer::run(tree, true)
    }

    fn run(tree: InMemoryTree, delete_partials: bool) -> TilesServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind tiles server");
        let addr = listener.local_addr().expect("addr");
        let tree = Arc::new(Mutex::new(tree));
        let refused = Arc::new(AtomicUsize::new(0));
        let (shared, count) = (tree.clone(), refused.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (tree, count) = (shared.clone(), count.clone());
                std::thread::spawn(move || {
                    serve_tile(stream, &tree, delete_partials.then_some(&*count))
                });
            }
        });
        TilesServer {
            addr,
            tree,
            partials_refused: refused,
        }
    }

    /// Its base URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// The body of `path` if served: a hash tile within the tree, and not a
/// deleted partial tile (counted in `deleted`, if partials are deleted).
fn tile_body(
    path: &str,
    tree: &Mutex<InMemoryTree>,
    deleted: Option<&AtomicUsize>,
) -> Option<Vec<u8>> {
    let Ok(TilePath::Hashes(tile)) = Tile::parse_path(path) else {
        return None;
    };
    let tree = tree.lock().expect("tree");
    if let Some(count) = deleted {
        let full = Tile::new(tile.level, tile.index, TILE_WIDTH).ok()?;
        if tile.is_partial() && full.is_within(tree.size()) {
            count.fetch_add(1, Ordering::Relaxed);
            return None;
        }
    }
    if !tile.is_within(tree.size()) {
        return None;
    }
    read_tile(&*tree, &tile).ok()
}

fn serve_tile(stream: TcpStream, tree: &Mutex<InMemoryTree>, deleted: Option<&AtomicUsize>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut reader = BufReader::new(&stream);
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    // Skip the headers.
    loop {
        let mut h = String::new();
        match reader.read_line(&mut h) {
            Ok(0) | Err(_) => break,
            Ok(_) if h == "\r\n" => break,
            Ok(_) => {}
        }
    }
    let path = line
        .split(' ')
        .nth(1)
        .unwrap_or("/")
        .trim_start_matches('/');
    let (status, body) = match tile_body(path, tree, deleted) {
        Some(b) => ("200 OK", b),
        None => ("404 Not Found", b"not found\n".to_vec()),
    };
    let mut s = &stream;
    let _ = s.write_all(
        format!(
            "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    );
    let _ = s.write_all(&body);
}
