//! The harness of `go_interop.rs`: the JSON vector format shared with the
//! Go program `gocheck` (mirroring its `Vectors` type in `main.go`),
//! building and running that program, the tree both sides agree on, and
//! the vectors attestlog-core produces for Go to check.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use attestlog_core::checkpoint::Checkpoint;
use attestlog_core::cosignature::{self, MAX_TIMESTAMP};
use attestlog_core::hash::{leaf_hash, Hash};
use attestlog_core::note::{KeyType, Note, NoteVerifier, SignerKey, VerifierKey};
use attestlog_core::proof::{parse_concatenated, prove_consistency, prove_inclusion};
use attestlog_core::tile::{read_tile, Tile, TileSource};
use attestlog_core::tree::{tree_root, InMemoryTree};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Leaf `i` is the ASCII bytes of `"leaf <i>"`; both sides check the rule.
pub const LEAF_RULE: &str = "leaf %d";
/// Leaves in the shared tree: enough for level-2 tiles.
pub const LEAF_COUNT: u64 = 70_000;
/// Sizes beyond the 1..=300 sweep, around tile-level boundaries.
pub const BIG_SIZES: [u64; 7] = [511, 512, 513, 65_535, 65_536, 65_537, LEAF_COUNT];
/// Tree sizes whose complete tile sets are exchanged.
pub const TILE_SIZES: [u64; 13] = [
    1, 2, 255, 256, 257, 300, 511, 512, 513, 65_535, 65_536, 65_537, LEAF_COUNT,
];
/// Log growths whose lists of written tiles are compared.
pub const CHANGED_STEPS: [(u64, u64); 16] = [
    (0, 1),
    (1, 2),
    (0, 255),
    (0, 256),
    (255, 256),
    (256, 257),
    (250, 600),
    (600, 601),
    (511, 512),
    (512, 513),
    (300, 65_535),
    (65_535, 65_536),
    (65_536, 65_537),
    (0, LEAF_COUNT),
    (65_537, LEAF_COUNT),
    (1, LEAF_COUNT),
];
/// The origin `tlog.FormatTree` writes and `tlog.ParseTree` requires.
pub const GO_SUM_ORIGIN: &str = "go.sum database tree";

// ---------------------------------------------------------------------------
// The JSON exchanged with gocheck (see its `Vectors` type).

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Vectors {
    pub producer: String,
    pub leaf_rule: String,
    pub leaf_count: u64,
    pub roots: Vec<RootVec>,
    pub inclusion: Vec<InclusionVec>,
    pub consistency: Vec<ConsistencyVec>,
    pub tile_sizes: Vec<u64>,
    pub tiles: Vec<TileVec>,
    pub changed_tiles: Vec<ChangedVec>,
    pub tile_paths: Vec<TilePathVec>,
    pub trees: Vec<TreeVec>,
    pub keys: Vec<KeyVec>,
    pub notes: Vec<NoteVec>,
    pub cosigned: Vec<CosignedVec>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub note_cases: Vec<NoteCase>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub key_cases: Vec<KeyCase>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tree_cases: Vec<TreeCase>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RootVec {
    pub size: u64,
    pub hash: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct InclusionVec {
    pub index: u64,
    pub size: u64,
    pub proof: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ConsistencyVec {
    pub old: u64,
    pub new: u64,
    pub proof: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TileVec {
    pub path: String,
    pub data: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ChangedVec {
    pub old: u64,
    pub new: u64,
    pub paths: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TilePathVec {
    pub level: u8,
    pub index: u64,
    pub width: u16,
    pub path: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TreeVec {
    pub size: u64,
    pub text: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct KeyVec {
    pub name: String,
    pub kind: String,
    pub signer: String,
    pub verifier: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NoteVec {
    pub text: String,
    pub note: String,
    pub signers: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CosignedVec {
    pub origin: String,
    pub size: u64,
    pub note: String,
    pub log_key: String,
    pub witnesses: Vec<WitnessVec>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WitnessVec {
    pub key: String,
    pub timestamp: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NoteCase {
    pub name: String,
    pub note_hex: String,
    pub verifiers: Vec<String>,
    pub go_accepts: bool,
    pub go_error: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct KeyCase {
    pub name: String,
    pub key: String,
    pub go_accepts: bool,
    pub go_error: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TreeCase {
    pub name: String,
    pub text: String,
    pub go_accepts: bool,
    pub go_error: String,
}

// ---------------------------------------------------------------------------
// Building and running gocheck.

/// The built Go program, in a temporary directory removed on drop.
pub struct GoCheck {
    pub dir: tempfile::TempDir,
    pub bin: PathBuf,
}

impl GoCheck {
    /// Builds gocheck with the one Go recipe (`attestlog_gotest::go_build`:
    /// offline, GOPATH mode, Debian's x/mod sources).
    pub fn build() -> GoCheck {
        let dir = tempfile::tempdir().expect("temporary directory");
        let src = attestlog_gotest::manifest_dir(env!("CARGO_MANIFEST_DIR"))
            .join("tests/interop/gocheck");
        let bin = dir.path().join("gocheck");
        attestlog_gotest::go_build(&src, &bin).unwrap_or_else(|e| panic!("{e}"));
        GoCheck { dir, bin }
    }

    pub fn run(&self, subcommand: &str, file: &Path) -> Output {
        Command::new(&self.bin)
            .arg(subcommand)
            .arg(file)
            .output()
            .expect("running gocheck")
    }

    /// Runs `gocheck gen` and parses its vectors.
    pub fn gen(&self) -> Vectors {
        let file = self.dir.path().join("go-vectors.json");
        let out = self.run("gen", &file);
        assert!(
            out.status.success(),
            "gocheck gen failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Vectors = serde_json::from_slice(&std::fs::read(&file).expect("read Go vectors"))
            .expect("parse Go vectors");
        assert_eq!(v.leaf_rule, LEAF_RULE);
        assert_eq!(v.leaf_count, LEAF_COUNT);
        v
    }

    /// Writes `v` and runs `gocheck verify` on it.
    pub fn verify(&self, name: &str, v: &Vectors) -> Output {
        let file = self.dir.path().join(format!("{name}.json"));
        std::fs::write(&file, serde_json::to_vec(v).expect("serialize")).expect("write vectors");
        self.run("verify", &file)
    }
}

// ---------------------------------------------------------------------------
// Shared helpers.

pub fn leaf_data(i: u64) -> Vec<u8> {
    format!("leaf {i}").into_bytes()
}

pub fn build_tree() -> InMemoryTree {
    let mut tree = InMemoryTree::new();
    for i in 0..LEAF_COUNT {
        tree.push(leaf_hash(&leaf_data(i)));
    }
    tree
}

pub fn root(tree: &InMemoryTree, size: u64) -> Hash {
    tree_root(tree, size).expect("size within the tree")
}

pub fn proof_sizes() -> Vec<u64> {
    (1..=300).chain(BIG_SIZES).collect()
}

/// The positions in `[lo, hi]` tested for a tree of `n` leaves: all of them
/// up to 64 leaves, else ends, middle, both sides of powers of two and a few
/// spread ones (the same rule as gocheck's `samplePositions`).
pub fn sample_positions(n: u64, lo: u64, hi: u64) -> Vec<u64> {
    let mut set = BTreeSet::new();
    if n <= 64 {
        set.extend(lo..=hi);
    } else {
        set.extend([lo, lo + 1, lo + 2, n / 2, hi - 2, hi - 1, hi]);
        let mut p = 1;
        while p <= n {
            set.extend([p - 1, p, p + 1]);
            p <<= 1;
        }
        for j in 0..6 {
            set.insert(lo + (n * (2 * j + 1) * 7919 + 13 * j) % (hi - lo + 1));
        }
    }
    set.into_iter().filter(|i| (lo..=hi).contains(i)).collect()
}

pub fn hex_proof(proof: &[Hash]) -> String {
    proof.iter().map(Hash::to_hex).collect()
}

pub fn parse_proof(s: &str) -> Vec<Hash> {
    parse_concatenated(&hex::decode(s).expect("proof hex")).expect("proof hashes")
}

pub fn flip_bit(proof: &[Hash], at: usize) -> Vec<Hash> {
    let mut p = proof.to_vec();
    let bit = at % (p.len() * 256);
    p[bit / 256].0[(bit % 256) / 8] ^= 1 << (bit % 8);
    p
}

pub fn seed_for(name: &str) -> [u8; 32] {
    Sha256::digest(format!("attestlog key seed {name}")).into()
}

/// Collects mismatches instead of stopping at the first one.
#[derive(Default)]
pub struct Report {
    pub counts: BTreeMap<&'static str, usize>,
    pub failures: Vec<String>,
}

impl Report {
    pub fn check(&mut self, section: &'static str, ok: bool, what: impl FnOnce() -> String) {
        *self.counts.entry(section).or_default() += 1;
        if !ok {
            self.failures.push(format!("[{section}] {}", what()));
        }
    }

    pub fn finish(self, what: &str) -> BTreeMap<&'static str, usize> {
        assert!(
            self.failures.is_empty(),
            "{what}: {} mismatches (first 40):\n{}",
            self.failures.len(),
            self.failures
                .iter()
                .take(40)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n")
        );
        eprintln!("{what}: {:?}", self.counts);
        self.counts
    }
}

/// Serves tiles that Go wrote, for [`TileHashReader`].
pub struct GoTiles(pub HashMap<Tile, Vec<u8>>);

impl TileSource for &GoTiles {
    type Error = String;
    fn read_tile(&self, tile: &Tile) -> Result<Vec<u8>, String> {
        self.0
            .get(tile)
            .cloned()
            .ok_or_else(|| format!("Go sent no tile {}", tile.path()))
    }
}

pub fn verifier_refs(keys: &[VerifierKey]) -> Vec<&dyn NoteVerifier> {
    keys.iter().map(|k| k as &dyn NoteVerifier).collect()
}

/// Everything attestlog-core produces, in gocheck's format.
pub fn rust_vectors(tree: &InMemoryTree) -> Vectors {
    let mut v = Vectors {
        producer: "attestlog-core".into(),
        leaf_rule: LEAF_RULE.into(),
        leaf_count: LEAF_COUNT,
        tile_sizes: TILE_SIZES.to_vec(),
        ..Vectors::default()
    };
    let sizes: BTreeSet<u64> = proof_sizes().into_iter().chain(TILE_SIZES).collect();
    v.roots = sizes
        .iter()
        .map(|&size| RootVec {
            size,
            hash: root(tree, size).to_hex(),
        })
        .collect();
    for size in proof_sizes() {
        for index in sample_positions(size, 0, size - 1) {
            let proof = prove_inclusion(tree, index, size).expect("prove");
            v.inclusion.push(InclusionVec {
                index,
                size,
                proof: hex_proof(&proof),
            });
        }
        for old in sample_positions(size, 1, size) {
            let proof = prove_consistency(tree, old, size).expect("prove");
            v.consistency.push(ConsistencyVec {
                old,
                new: size,
                proof: hex_proof(&proof),
            });
        }
    }
    let tiles: BTreeSet<Tile> = TILE_SIZES
        .iter()
        .flat_map(|&s| Tile::changed_between(0, s))
        .collect();
    v.tiles = tiles
        .iter()
        .map(|t| TileVec {
            path: t.path(),
            data: hex::encode(read_tile(tree, t).expect("tile")),
        })
        .collect();
    v.changed_tiles = CHANGED_STEPS
        .iter()
        .map(|&(old, new)| ChangedVec {
            old,
            new,
            paths: Tile::changed_between(old, new)
                .iter()
                .map(Tile::path)
                .collect(),
        })
        .collect();
    for (level, index, width) in [
        (0, 0, 256),
        (0, 0, 1),
        (0, 7, 255),
        (0, 999, 256),
        (0, 1000, 256),
        (1, 1_234_067, 37),
        (2, 1_000_000, 256),
        (3, 999_999_999, 128),
        (7, 127, 1),
        (5, 1_001_001, 256),
        (0, i64::MAX as u64, 256),
    ] {
        let path = Tile::new(level, index, width).expect("tile").path();
        v.tile_paths.push(TilePathVec {
            level,
            index,
            width,
            path,
        });
    }
    for size in [1, 2, 3, 255, 256, 300, 65_536, LEAF_COUNT] {
        let text = Checkpoint::new(GO_SUM_ORIGIN, size, root(tree, size))
            .to_text()
            .expect("text");
        v.trees.push(TreeVec { size, text });
    }

    let mut signers = HashMap::new();
    for (name, kind) in [
        ("attestlog.example/log", KeyType::Ed25519),
        ("attestlog.example/second", KeyType::Ed25519),
        ("ünïcode.example/❄", KeyType::Ed25519),
        ("attestlog.example/witness1", KeyType::Cosignature),
        ("attestlog.example/witness2", KeyType::Cosignature),
    ] {
        let sk = SignerKey::from_seed(name, kind, seed_for(name)).expect("key");
        v.keys.push(KeyVec {
            name: name.into(),
            kind: if kind == KeyType::Ed25519 {
                "ed25519"
            } else {
                "cosignature"
            }
            .into(),
            signer: sk.to_key_string(),
            verifier: sk.verifier().to_key_string(),
        });
        signers.insert(name, sk);
    }
    let log = "attestlog.example/log";
    let mut checkpoint = Checkpoint::new(log, 300, root(tree, 300));
    checkpoint.extensions.push("extension — with spaces".into());
    for (text, names) in [
        (checkpoint.to_text().expect("text"), vec![log]),
        ("hello\n".into(), vec![log, "attestlog.example/second"]),
        (
            "a text\n\nwith a blank line, — an em dash\nand ünïcode ❄\n".into(),
            vec!["ünïcode.example/❄", log, "attestlog.example/second"],
        ),
        ("\n".to_string(), vec!["attestlog.example/second"]),
    ] {
        let mut note = Note::new(text.clone()).expect("text");
        for n in &names {
            note.add_signature(signers[n].sign(&text).expect("sign"))
                .expect("add");
        }
        v.notes.push(NoteVec {
            text,
            note: String::from_utf8(note.to_bytes()).expect("UTF-8"),
            signers: names.iter().map(|n| n.to_string()).collect(),
        });
    }
    for (size, extension, witnesses) in [
        (1, None, vec![("attestlog.example/witness1", 0)]),
        (
            300,
            None,
            vec![
                ("attestlog.example/witness1", 1_700_000_000),
                ("attestlog.example/witness2", MAX_TIMESTAMP),
            ],
        ),
        (
            LEAF_COUNT,
            Some("— an extension line"),
            vec![("attestlog.example/witness2", 1_234_567_890)],
        ),
    ] {
        let mut cp = Checkpoint::new(log, size, root(tree, size));
        cp.extensions.extend(extension.map(String::from));
        let text = cp.to_text().expect("text");
        let mut note = Note::new(text.clone()).expect("text");
        note.add_signature(signers[log].sign(&text).expect("sign"))
            .expect("add");
        for (w, ts) in &witnesses {
            note.add_signature(cosignature::cosign(&signers[w], &text, *ts).expect("cosign"))
                .expect("add");
        }
        v.cosigned.push(CosignedVec {
            origin: log.into(),
            size,
            note: String::from_utf8(note.to_bytes()).expect("UTF-8"),
            log_key: log.into(),
            witnesses: witnesses
                .iter()
                .map(|(w, ts)| WitnessVec {
                    key: w.to_string(),
                    timestamp: *ts,
                })
                .collect(),
        });
    }
    v
}

/// Parses `gocheck verify`'s summary line into its counts.
pub fn summary(out: &Output) -> BTreeMap<String, usize> {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find(|l| l.starts_with("gocheck verify: "))
        .unwrap_or_else(|| panic!("no summary line from gocheck verify; stdout:\n{stdout}"));
    line.split_whitespace()
        .filter_map(|w| w.split_once('='))
        .map(|(k, n)| (k.to_string(), n.parse().expect("count")))
        .collect()
}
