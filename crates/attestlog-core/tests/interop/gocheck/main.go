// Command gocheck cross-checks attestlog-core against an independent
// implementation: Go's golang.org/x/mod/sumdb/tlog and
// golang.org/x/mod/sumdb/note (x/mod 0.7.0, as packaged by Debian), plus a
// small C2SP tlog-cosignature (cosignature/v1) signer and verifier written
// here with crypto/ed25519, since x/mod 0.7.0 has none.
//
// It is driven by crates/attestlog-core/tests/go_interop.rs, which exchanges
// JSON vector files with it (bytes in lower-case hex, notes as strings):
//
//	gocheck gen <out.json>    Go writes vectors: Merkle roots, inclusion and
//	                          consistency proofs, hash tiles and their paths,
//	                          tile lists, go.sum tree texts, keys, signed
//	                          notes, cosigned checkpoints, and edge cases
//	                          with Go's accept/reject verdicts.
//	gocheck verify <in.json>  Go checks vectors that attestlog-core wrote in
//	                          the same format, prints one summary line
//	                          ("gocheck verify: ok ..." with counts) and exits
//	                          1 after listing every mismatch ("MISMATCH
//	                          [section] ...") if any check failed.
//
// What the two sides mean by the same thing, and where they knowingly differ:
//   - Leaf i is the ASCII bytes of "leaf <i>" (field leaf_rule); its leaf
//     hash is SHA-256(0x00 || bytes).
//   - Go's TreeHash(0) is 32 zero bytes, RFC 9162's is SHA-256(""); size 0
//     is never exchanged. Go's ProveTree and CheckTree need old size >= 1.
//   - Tile paths are exchanged in C2SP tlog-tiles form (tile/L/N[.p/W]); Go's
//     form carries the height too (tile/8/L/N[.p/W]). Go's NewTiles lists
//     every intermediate partial width of a growing tile (go.sum semantics);
//     C2SP logs publish only the widest, so the lists are compared after
//     keeping, per tile, the widest new width (normalizeNewTiles).
//
// The package is split by concern: main.go (the JSON format, the tree,
// tile normalization, key strings and cosignatures), gen.go and verify.go.
//
// Running it by hand (offline, GOPATH mode, Debian packages golang-go and
// golang-golang-x-mod-dev installed):
//
//	cd crates/attestlog-core/tests/interop/gocheck
//	GO111MODULE=off GOFLAGS= GOPATH=/tmp/gp:/usr/share/gocode go build -o /tmp/gocheck .
//	/tmp/gocheck gen /tmp/go.json
//	/tmp/gocheck verify /tmp/rust.json
package main

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/tlog"
)

// leafRule names how leaf data is derived from its index, on both sides.
const leafRule = "leaf %d"

// leafCount is the number of leaves in the tree both sides build: enough
// for level-2 tiles (65,536 leaves) and a partial tile at every level.
const leafCount = 70000

// tileHeight is the C2SP tlog-tiles tile height.
const tileHeight = 8

// Vectors is the JSON document exchanged in both directions.
type Vectors struct {
	Producer    string        `json:"producer"`
	LeafRule    string        `json:"leaf_rule"`
	LeafCount   int64         `json:"leaf_count"`
	Roots       []Root        `json:"roots"`
	Inclusion   []Inclusion   `json:"inclusion"`
	Consistency []Consistency `json:"consistency"`
	// TileSizes are tree sizes whose every tile is in Tiles.
	TileSizes    []int64      `json:"tile_sizes"`
	Tiles        []TileData   `json:"tiles"`
	ChangedTiles []Changed    `json:"changed_tiles"`
	TilePaths    []TilePath   `json:"tile_paths"`
	Trees        []TreeText   `json:"trees"`
	Keys         []Key        `json:"keys"`
	Notes        []SignedNote `json:"notes"`
	Cosigned     []Cosigned   `json:"cosigned"`
	NoteCases    []NoteCase   `json:"note_cases,omitempty"`
	KeyCases     []KeyCase    `json:"key_cases,omitempty"`
	TreeCases    []TreeCase   `json:"tree_cases,omitempty"`
}

// Root is the Merkle tree hash of the first Size leaves.
type Root struct {
	Size int64  `json:"size"`
	Hash string `json:"hash"`
}

// Inclusion is the proof of leaf Index in the tree of Size leaves, as
// concatenated 32-byte hashes, bottom first.
type Inclusion struct {
	Index int64  `json:"index"`
	Size  int64  `json:"size"`
	Proof string `json:"proof"`
}

// Consistency is the proof from the tree of Old leaves to that of New.
type Consistency struct {
	Old   int64  `json:"old"`
	New   int64  `json:"new"`
	Proof string `json:"proof"`
}

// TileData is a hash tile: its C2SP path and its bytes.
type TileData struct {
	Path string `json:"path"`
	Data string `json:"data"`
}

// Changed lists, in C2SP paths, the tiles written when a log grows.
type Changed struct {
	Old   int64    `json:"old"`
	New   int64    `json:"new"`
	Paths []string `json:"paths"`
}

// TilePath is the C2SP path of tile coordinates (W 256 is a full tile).
type TilePath struct {
	Level int    `json:"level"`
	Index int64  `json:"index"`
	Width int    `json:"width"`
	Path  string `json:"path"`
}

// TreeText is a checkpoint text with origin "go.sum database tree", the
// form tlog.FormatTree and tlog.ParseTree use.
type TreeText struct {
	Size int64  `json:"size"`
	Text string `json:"text"`
}

// Key is a note key. Kind is "ed25519" (type 0x01) or "cosignature" (0x04).
type Key struct {
	Name     string `json:"name"`
	Kind     string `json:"kind"`
	Signer   string `json:"signer"`
	Verifier string `json:"verifier"`
}

// SignedNote is a note signed by the Ed25519 keys named in Signers, in
// that order.
type SignedNote struct {
	Text    string   `json:"text"`
	Note    string   `json:"note"`
	Signers []string `json:"signers"`
}

// Cosigned is a checkpoint signed by a log key and cosigned by witnesses.
type Cosigned struct {
	Origin    string    `json:"origin"`
	Size      int64     `json:"size"`
	Note      string    `json:"note"`
	LogKey    string    `json:"log_key"`
	Witnesses []Witness `json:"witnesses"`
}

// Witness names a cosignature key and the timestamp it signed.
type Witness struct {
	Key       string `json:"key"`
	Timestamp uint64 `json:"timestamp"`
}

// NoteCase is a note (hex, so that it may be invalid UTF-8) with the
// verifier keys to open it with, and whether Go's note.Open accepts it.
type NoteCase struct {
	Name      string   `json:"name"`
	NoteHex   string   `json:"note_hex"`
	Verifiers []string `json:"verifiers"`
	GoAccepts bool     `json:"go_accepts"`
	GoError   string   `json:"go_error"`
}

// KeyCase is a verifier key string and whether note.NewVerifier accepts it.
type KeyCase struct {
	Name      string `json:"name"`
	Key       string `json:"key"`
	GoAccepts bool   `json:"go_accepts"`
	GoError   string `json:"go_error"`
}

// TreeCase is a checkpoint text and whether tlog.ParseTree accepts it.
type TreeCase struct {
	Name      string `json:"name"`
	Text      string `json:"text"`
	GoAccepts bool   `json:"go_accepts"`
	GoError   string `json:"go_error"`
}

func main() {
	if len(os.Args) != 3 || (os.Args[1] != "gen" && os.Args[1] != "verify") {
		fmt.Fprintln(os.Stderr, "usage: gocheck gen <out.json> | gocheck verify <in.json>")
		os.Exit(2)
	}
	var err error
	if os.Args[1] == "gen" {
		err = gen(os.Args[2])
	} else {
		err = verify(os.Args[2])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gocheck:", err)
		os.Exit(1)
	}
}

// ---------------------------------------------------------------------------
// The tree, built with tlog.StoredHashes.

func leafData(i int64) []byte { return []byte(fmt.Sprintf(leafRule, i)) }

// store holds every stored hash of a tree of leafCount leaves, in
// tlog.StoredHashIndex order; proofs for smaller trees read the same store.
type store []tlog.Hash

func (s *store) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(*s)) {
			return nil, fmt.Errorf("stored hash %d not present (have %d)", x, len(*s))
		}
		out[i] = (*s)[x]
	}
	return out, nil
}

func buildStore(n int64) (*store, error) {
	s := &store{}
	for i := int64(0); i < n; i++ {
		hs, err := tlog.StoredHashes(i, leafData(i), s)
		if err != nil {
			return nil, err
		}
		*s = append(*s, hs...)
	}
	if int64(len(*s)) != tlog.StoredHashCount(n) {
		return nil, fmt.Errorf("stored %d hashes, want %d", len(*s), tlog.StoredHashCount(n))
	}
	return s, nil
}

// ---------------------------------------------------------------------------
// Which sizes, indexes and tiles are exchanged.

// bigSizes are sizes around tile-level boundaries, beyond the 1..300 sweep.
var bigSizes = []int64{511, 512, 513, 65535, 65536, 65537, leafCount}

// tileSizes are tree sizes whose complete tile sets are exchanged.
var tileSizes = []int64{1, 2, 255, 256, 257, 300, 511, 512, 513, 65535, 65536, 65537, leafCount}

// changedSteps are (old, new) growths whose changed-tile lists are compared.
var changedSteps = [][2]int64{
	{0, 1}, {1, 2}, {0, 255}, {0, 256}, {255, 256}, {256, 257}, {250, 600},
	{600, 601}, {511, 512}, {512, 513}, {300, 65535}, {65535, 65536},
	{65536, 65537}, {0, leafCount}, {65537, leafCount}, {1, leafCount},
}

func proofSizes() []int64 {
	var sizes []int64
	for n := int64(1); n <= 300; n++ {
		sizes = append(sizes, n)
	}
	return append(sizes, bigSizes...)
}

// samplePositions returns the positions in [lo, hi] to test for a tree of
// size n: all of them for n <= 64, else the ends, the middle, both sides of
// every power of two, and a few spread deterministically.
func samplePositions(n, lo, hi int64) []int64 {
	set := map[int64]bool{}
	if n <= 64 {
		for i := lo; i <= hi; i++ {
			set[i] = true
		}
	} else {
		for _, i := range []int64{lo, lo + 1, lo + 2, n / 2, hi - 2, hi - 1, hi} {
			set[i] = true
		}
		for p := int64(1); p <= n; p <<= 1 {
			set[p-1], set[p], set[p+1] = true, true, true
		}
		for j := int64(0); j < 6; j++ {
			set[lo+(n*(2*j+1)*7919+13*j)%(hi-lo+1)] = true
		}
	}
	var out []int64
	for i := range set {
		if i >= lo && i <= hi {
			out = append(out, i)
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a] < out[b] })
	return out
}

func goPath(c2sp string) (string, error) {
	rest := strings.TrimPrefix(c2sp, "tile/")
	if rest == c2sp {
		return "", fmt.Errorf("not a tile path: %q", c2sp)
	}
	return fmt.Sprintf("tile/%d/%s", tileHeight, rest), nil
}

func c2spPath(t tlog.Tile) string {
	return "tile/" + strings.TrimPrefix(t.Path(), fmt.Sprintf("tile/%d/", tileHeight))
}

// tilesOfTree lists every tile of a tree of size n as C2SP publishes them:
// all full tiles and the rightmost partial tile of each level.
func tilesOfTree(n int64) []tlog.Tile {
	return normalizeNewTiles(0, n)
}

// normalizeNewTiles is tlog.NewTiles(8, old, new) reduced to what a C2SP
// log writes: each full tile, and of the partial widths Go lists for the
// rightmost tile of a level only the widest, unless that width already
// existed at size old.
func normalizeNewTiles(old, new int64) []tlog.Tile {
	var out []tlog.Tile
	raw := tlog.NewTiles(tileHeight, old, new)
	for i, t := range raw {
		full := t.W == 1<<tileHeight
		if !full {
			if i+1 < len(raw) && raw[i+1].L == t.L && raw[i+1].N == t.N {
				continue // a wider one of the same tile follows
			}
			oldCount := old >> (uint(tileHeight) * uint(t.L))
			if oldCount-t.N<<tileHeight >= int64(t.W) {
				continue // unchanged since size old
			}
		}
		out = append(out, t)
	}
	return out
}

var syntheticTiles = []TilePath{
	{Level: 0, Index: 0, Width: 256}, {Level: 0, Index: 0, Width: 1},
	{Level: 0, Index: 7, Width: 255}, {Level: 0, Index: 999, Width: 256},
	{Level: 0, Index: 1000, Width: 256}, {Level: 1, Index: 1234067, Width: 37},
	{Level: 2, Index: 1000000, Width: 256}, {Level: 3, Index: 999999999, Width: 128},
	{Level: 7, Index: 127, Width: 1}, {Level: 5, Index: 1001001, Width: 256},
	{Level: 0, Index: 9223372036854775807, Width: 256},
}

// ---------------------------------------------------------------------------
// Keys and cosignatures.

const (
	algEd25519     = 0x01
	algCosignature = 0x04
)

func seedFor(name string) []byte {
	s := sha256.Sum256([]byte("gocheck key seed " + name))
	return s[:]
}

// keyID is the C2SP signed-note key ID (note.keyHash is unexported).
func keyID(name string, alg byte, pub []byte) uint32 {
	h := sha256.New()
	h.Write([]byte(name + "\n"))
	h.Write([]byte{alg})
	h.Write(pub)
	return binary.BigEndian.Uint32(h.Sum(nil))
}

// cosigner is a note.Signer for C2SP tlog-cosignature cosignature/v1: it
// signs "cosignature/v1\ntime <t>\n" + checkpoint text and returns the
// 8-byte big-endian timestamp followed by the Ed25519 signature.
type cosigner struct {
	name string
	priv ed25519.PrivateKey
	time uint64
}

func (c *cosigner) Name() string { return c.name }
func (c *cosigner) KeyHash() uint32 {
	return keyID(c.name, algCosignature, c.priv.Public().(ed25519.PublicKey))
}
func (c *cosigner) Sign(text []byte) ([]byte, error) {
	var ts [8]byte
	binary.BigEndian.PutUint64(ts[:], c.time)
	return append(ts[:], ed25519.Sign(c.priv, cosignedMessage(c.time, text))...), nil
}

func cosignedMessage(t uint64, text []byte) []byte {
	return append([]byte(fmt.Sprintf("cosignature/v1\ntime %d\n", t)), text...)
}

// cosignVerifier is a note.Verifier for cosignature/v1 keys.
type cosignVerifier struct {
	name string
	pub  ed25519.PublicKey
}

func (v *cosignVerifier) Name() string    { return v.name }
func (v *cosignVerifier) KeyHash() uint32 { return keyID(v.name, algCosignature, v.pub) }
func (v *cosignVerifier) Verify(text, sig []byte) bool {
	_, err := verifyCosignature(v.pub, text, sig)
	return err == nil
}

// verifyCosignature checks 72 cosignature bytes and returns the timestamp.
func verifyCosignature(pub ed25519.PublicKey, text, sig []byte) (uint64, error) {
	if len(sig) != 8+ed25519.SignatureSize {
		return 0, fmt.Errorf("cosignature is %d bytes, want 72", len(sig))
	}
	t := binary.BigEndian.Uint64(sig[:8])
	if t >= 1<<63 {
		return 0, fmt.Errorf("timestamp %d is not below 2^63", t)
	}
	if !ed25519.Verify(pub, cosignedMessage(t, text), sig[8:]) {
		return 0, errors.New("cosignature does not verify")
	}
	return t, nil
}

// parseKeyString splits "[PRIVATE+KEY+]name+id+base64(alg||key)" and checks
// the ID (for a signer key, against the public key derived from the seed).
func parseKeyString(s string, private bool) (name string, alg byte, key []byte, err error) {
	if private {
		if !strings.HasPrefix(s, "PRIVATE+KEY+") {
			return "", 0, nil, errors.New("signer key does not start with PRIVATE+KEY+")
		}
		s = strings.TrimPrefix(s, "PRIVATE+KEY+")
	}
	parts := strings.SplitN(s, "+", 3)
	if len(parts) != 3 || len(parts[1]) != 8 {
		return "", 0, nil, fmt.Errorf("malformed key %q", s)
	}
	id, err := strconv.ParseUint(parts[1], 16, 32)
	if err != nil {
		return "", 0, nil, err
	}
	blob, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(blob) != 33 {
		return "", 0, nil, fmt.Errorf("malformed key material in %q", s)
	}
	name, alg, key = parts[0], blob[0], blob[1:]
	pub := key
	if private {
		pub = ed25519.NewKeyFromSeed(key).Public().(ed25519.PublicKey)
	}
	if keyID(name, alg, pub) != uint32(id) {
		return "", 0, nil, fmt.Errorf("key ID %s does not match key %q", parts[1], name)
	}
	return name, alg, key, nil
}

func cosignKeyStrings(name string, seed []byte) (skey, vkey string) {
	pub := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
	id := keyID(name, algCosignature, pub)
	skey = fmt.Sprintf("PRIVATE+KEY+%s+%08x+%s", name, id, base64.StdEncoding.EncodeToString(append([]byte{algCosignature}, seed...)))
	vkey = fmt.Sprintf("%s+%08x+%s", name, id, base64.StdEncoding.EncodeToString(append([]byte{algCosignature}, pub...)))
	return
}

func checkpointText(origin string, size int64, root tlog.Hash) string {
	return fmt.Sprintf("%s\n%d\n%s\n", origin, size, base64.StdEncoding.EncodeToString(root[:]))
}
