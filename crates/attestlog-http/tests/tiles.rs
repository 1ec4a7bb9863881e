//! `attestlog_http::tiles::TileFetcher` against a tiles server on
//! 127.0.0.1 that holds what a log of 600 entries holds once it deleted
//! its superseded partial tiles (C2SP tlog-tiles: "Logs MAY delete partial
//! tiles once the corresponding full tile is available"): full tiles, and
//! partial tiles only where the full tile does not exist yet.
//!
//! Pins, for the client and the witness alike: a gone partial hash tile
//! or entry bundle is read as the prefix of its full tile; a tile that is
//! gone altogether is reported under the partial tile's URL; the body
//! limit still holds; a reader given a `Host` sends it.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;

use attestlog_core::leaf_hash;
use attestlog_core::proof::prove_consistency;
use attestlog_core::tile::{encode_entry_bundle, read_tile, Tile, TileSource, TILE_WIDTH};
use attestlog_core::tree::{tree_root, InMemoryTree};
use attestlog_http::server::{serve, ServerLimits};
use attestlog_http::tiles::{TileFetchError, TileFetcher, DEFAULT_TIMEOUT, MAX_HASH_TILE};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};

const SIZE: u64 = 600;

fn entry(i: u64) -> Vec<u8> {
    format!("entry {i}").into_bytes()
}

/// The files of the log: path → body.
fn files() -> (InMemoryTree, HashMap<String, Vec<u8>>) {
    let mut tree = InMemoryTree::new();
    for i in 0..SIZE {
        tree.push(leaf_hash(&entry(i)));
    }
    let mut files = HashMap::new();
    for level in 0..2 {
        let mut index = 0;
        while let Some(last) = Tile::at(level, index, SIZE) {
            // A full tile alone, or every partial tile up to the current.
            let widths = if last.is_partial() { 1 } else { TILE_WIDTH }..=last.width;
            for width in widths {
                let tile = Tile::new(level, index, width).expect("tile");
                files.insert(tile.path(), read_tile(&tree, &tile).expect("tile"));
                if level == 0 {
                    let first = index * u64::from(TILE_WIDTH);
                    let entries: Vec<Vec<u8>> =
                        (first..first + u64::from(width)).map(entry).collect();
                    files.insert(
                        tile.entries_path(),
                        encode_entry_bundle(&entries).expect("bundle"),
                    );
                }
            }
            index += 1;
        }
    }
    // A hash tile over the body limit.
    files.insert(
        Tile::new(0, 9, TILE_WIDTH).expect("tile").path(),
        vec![0; MAX_HASH_TILE + 1],
    );
    (tree, files)
}

/// Serves `files` on 127.0.0.1 for as long as `rt` runs.
fn start(rt: &tokio::runtime::Runtime, files: HashMap<String, Vec<u8>>) -> String {
    start_site(rt, files, None)
}

/// Serves `files` on 127.0.0.1 for as long as `rt` runs, to requests
/// whose `Host` is `site` if given (404 to others, as a website endpoint
/// or CDN serving several sites on one address).
fn start_site(
    rt: &tokio::runtime::Runtime,
    files: HashMap<String, Vec<u8>>,
    site: Option<&'static str>,
) -> String {
    let files = Arc::new(files);
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        let host = req
            .headers()
            .get(hyper::header::HOST)
            .and_then(|h| h.to_str().ok());
        let body = if site.is_none_or(|site| host == Some(site)) {
            files.get(req.uri().path().trim_start_matches('/')).cloned()
        } else {
            None
        };
        async move {
            Ok::<_, Infallible>(match body {
                Some(b) => Response::new(Full::new(Bytes::from(b))),
                None => {
                    let mut r = Response::new(Full::new(Bytes::from_static(b"not found\n")));
                    *r.status_mut() = hyper::StatusCode::NOT_FOUND;
                    r
                }
            })
        }
    });
    rt.spawn(serve(
        listener,
        ServerLimits::default(),
        service,
        std::future::pending(),
    ));
    url
}

#[test]
fn gone_partial_tiles_are_read_from_their_full_tiles() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (tree, files) = files();
    assert!(!files.contains_key("tile/0/001.p/44"));
    let url = start(&rt, files);
    let tiles = TileFetcher::new(&url, rt.handle().clone(), DEFAULT_TIMEOUT);

    // Hash tiles: the tree of 300 needs tile/0/001.p/44.
    let (prefix, proof) = tiles.prefix_and_proof(200, 300).expect("prefix and proof");
    assert_eq!(prefix, tree_root(&tree, 200).expect("root"));
    assert_eq!(proof, prove_consistency(&tree, 200, 300).expect("proof"));
    assert_eq!(
        tree_root(&tiles.tree(300), 300).expect("root from tiles"),
        tree_root(&tree, 300).expect("root")
    );

    // Entry bundles: 001.p/44 is gone, 002.p/88 is served as it is.
    let want = |range: std::ops::Range<u64>| range.map(entry).collect::<Vec<_>>();
    assert_eq!(tiles.entries(1, 44).expect("entries"), want(256..300));
    assert_eq!(tiles.entries(2, 88).expect("entries"), want(512..600));
    assert_eq!(tiles.entries(0, 256).expect("entries"), want(0..256));
}

#[test]
fn missing_and_oversized_tiles_fail() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (_, files) = files();
    let url = start(&rt, files);
    let tiles = TileFetcher::new(&url, rt.handle().clone(), DEFAULT_TIMEOUT);

    // Neither the partial bundle nor its full bundle: the partial's 404.
    match tiles.entries(3, 5) {
        Err(TileFetchError::Status { url: u, status }) => {
            assert_eq!((u, status), (format!("{url}/tile/entries/003.p/5"), 404));
        }
        other => panic!("expected a 404, got {other:?}"),
    }
    // A hash tile bigger than 256 hashes is cut off by the body limit.
    let big = Tile::new(0, 9, TILE_WIDTH).expect("tile");
    match (&tiles).read_tile(&big) {
        Err(TileFetchError::Http(e)) => assert!(e.reason.contains("body"), "{e}"),
        other => panic!("expected the body limit, got {other:?}"),
    }
    // Sizes that describe no proof.
    assert!(tiles.prefix_and_proof(300, 200).is_err());
}

#[test]
fn the_host_header_picks_the_site() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (_, files) = files();
    let url = start_site(&rt, files, Some("tiles.example"));

    // Sent to the URL's authority (127.0.0.1:port), the site is not found.
    let by_address = TileFetcher::new(&url, rt.handle().clone(), DEFAULT_TIMEOUT);
    match by_address.entries(0, 256) {
        Err(TileFetchError::Status { status: 404, .. }) => {}
        other => panic!("expected a 404 without the site's Host, got {other:?}"),
    }
    // With the site's Host, the same URLs are its tiles.
    let by_host = by_address.clone().with_host("tiles.example");
    let want: Vec<Vec<u8>> = (0..256).map(entry).collect();
    assert_eq!(by_host.entries(0, 256).expect("entries"), want);
    let tile = Tile::new(0, 0, TILE_WIDTH).expect("tile");
    assert_eq!(
        (&by_host).read_tile(&tile).expect("hash tile").len(),
        MAX_HASH_TILE
    );
    assert!((&by_address).read_tile(&tile).is_err());
}
