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
// Running it by hand (offline, GOPATH mode, Debian packages golang-go and
// golang-golang-x-mod-dev installed):
//
//	cd crates/attestlog-core/tests/interop/gocheck
//	GO111MODULE=off GOFLAGS= GOPATH=/tmp/gp:/usr/share/gocode go build -o /tmp/gocheck .
//	/tmp/gocheck gen /tmp/go.json
//	/tmp/gocheck verify /tmp/rust.json
package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
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

// ---------------------------------------------------------------------------
// gen

func gen(out string) error {
	s, err := buildStore(leafCount)
	if err != nil {
		return err
	}
	v := Vectors{Producer: "go golang.org/x/mod/sumdb (tlog, note) 0.7.0", LeafRule: leafRule, LeafCount: leafCount}
	roots := map[int64]tlog.Hash{}
	for _, n := range append(proofSizes(), tileSizes...) {
		if _, ok := roots[n]; ok {
			continue
		}
		h, err := tlog.TreeHash(n, s)
		if err != nil {
			return err
		}
		roots[n] = h
		v.Roots = append(v.Roots, Root{n, hex.EncodeToString(h[:])})
	}
	for _, n := range proofSizes() {
		for _, i := range samplePositions(n, 0, n-1) {
			p, err := tlog.ProveRecord(n, i, s)
			if err != nil {
				return err
			}
			v.Inclusion = append(v.Inclusion, Inclusion{i, n, hexHashes(p)})
		}
		for _, m := range samplePositions(n, 1, n) {
			p, err := tlog.ProveTree(n, m, s)
			if err != nil {
				return err
			}
			v.Consistency = append(v.Consistency, Consistency{m, n, hexHashes(p)})
		}
	}

	v.TileSizes = tileSizes
	seen := map[string]bool{}
	for _, n := range tileSizes {
		for _, t := range tilesOfTree(n) {
			p := c2spPath(t)
			if seen[p] {
				continue
			}
			seen[p] = true
			data, err := tlog.ReadTileData(t, s)
			if err != nil {
				return err
			}
			v.Tiles = append(v.Tiles, TileData{p, hex.EncodeToString(data)})
		}
	}
	for _, st := range changedSteps {
		c := Changed{Old: st[0], New: st[1], Paths: []string{}}
		for _, t := range normalizeNewTiles(st[0], st[1]) {
			c.Paths = append(c.Paths, c2spPath(t))
		}
		v.ChangedTiles = append(v.ChangedTiles, c)
	}
	for _, tp := range syntheticTiles {
		tp.Path = c2spPath(tlog.Tile{H: tileHeight, L: tp.Level, N: tp.Index, W: tp.Width})
		v.TilePaths = append(v.TilePaths, tp)
	}
	for _, n := range []int64{1, 2, 3, 255, 256, 300, 65536, leafCount} {
		v.Trees = append(v.Trees, TreeText{n, string(tlog.FormatTree(tlog.Tree{N: n, Hash: roots[n]}))})
	}

	// Keys: Ed25519 note keys from note.GenerateKey with a fixed seed, and
	// cosignature keys built here.
	signers := map[string]note.Signer{}
	for _, name := range []string{"go.example/log", "go.example/second", "ünïcode.example/☃"} {
		skey, vkey, err := note.GenerateKey(bytes.NewReader(seedFor(name)), name)
		if err != nil {
			return err
		}
		if signers[name], err = note.NewSigner(skey); err != nil {
			return err
		}
		v.Keys = append(v.Keys, Key{name, "ed25519", skey, vkey})
	}
	cosigners := map[string]ed25519.PrivateKey{}
	for _, name := range []string{"go.example/witness1", "go.example/witness2"} {
		skey, vkey := cosignKeyStrings(name, seedFor(name))
		cosigners[name] = ed25519.NewKeyFromSeed(seedFor(name))
		v.Keys = append(v.Keys, Key{name, "cosignature", skey, vkey})
	}

	texts := []struct {
		text    string
		signers []string
	}{
		{checkpointText("go.example/log", 300, roots[300]), []string{"go.example/log"}},
		{"hello\n", []string{"go.example/log", "go.example/second"}},
		{"a text\n\nwith a blank line, — an em dash\nand ünïcode ☃\n", []string{"ünïcode.example/☃", "go.example/log", "go.example/second"}},
		{"\n", []string{"go.example/second"}},
	}
	for _, t := range texts {
		var ss []note.Signer
		for _, name := range t.signers {
			ss = append(ss, signers[name])
		}
		msg, err := note.Sign(&note.Note{Text: t.text}, ss...)
		if err != nil {
			return err
		}
		v.Notes = append(v.Notes, SignedNote{t.text, string(msg), t.signers})
	}

	for _, c := range []struct {
		size      int64
		extension string
		witnesses []Witness
	}{
		{1, "", []Witness{{"go.example/witness1", 0}}},
		{300, "", []Witness{{"go.example/witness1", 1700000000}, {"go.example/witness2", 1<<63 - 1}}},
		{leafCount, "— an extension line\n", []Witness{{"go.example/witness2", 1234567890}}},
	} {
		text := checkpointText("go.example/log", c.size, roots[c.size]) + c.extension
		ss := []note.Signer{signers["go.example/log"]}
		for _, w := range c.witnesses {
			ss = append(ss, &cosigner{w.Key, cosigners[w.Key], w.Timestamp})
		}
		msg, err := note.Sign(&note.Note{Text: text}, ss...)
		if err != nil {
			return err
		}
		v.Cosigned = append(v.Cosigned, Cosigned{"go.example/log", c.size, string(msg), "go.example/log", c.witnesses})
	}

	if err := genEdgeCases(&v, roots, signers); err != nil {
		return err
	}
	return writeJSON(out, &v)
}

func hexHashes(hs []tlog.Hash) string {
	var b []byte
	for _, h := range hs {
		b = append(b, h[:]...)
	}
	return hex.EncodeToString(b)
}

func writeJSON(path string, v *Vectors) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// genEdgeCases records Go's verdict on notes, key strings and tree texts
// that probe the corners of the formats.
func genEdgeCases(v *Vectors, roots map[int64]tlog.Hash, signers map[string]note.Signer) error {
	logName := "go.example/log"
	var logVkey string
	for _, k := range v.Keys {
		if k.Name == logName {
			logVkey = k.Verifier
		}
	}
	text := "edge case\n"
	good, err := note.Sign(&note.Note{Text: text}, signers[logName])
	if err != nil {
		return err
	}
	goodLine := string(good[len(text)+1:])
	sigB64 := strings.TrimSuffix(goodLine[len("— "+logName+" "):], "\n")
	raw, _ := base64.StdEncoding.DecodeString(sigB64)
	unknownLine := func(i int) string {
		return fmt.Sprintf("— other.example/k%d %s\n", i, base64.StdEncoding.EncodeToString([]byte{0, 0, 0, byte(i), 1, 2, 3}))
	}
	lineWith := func(name string, blob []byte) string {
		return fmt.Sprintf("— %s %s\n", name, base64.StdEncoding.EncodeToString(blob))
	}

	// Same signature with non-zero trailing bits in its last base64 digit.
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	nc := []byte(sigB64)
	last := strings.IndexByte(alphabet, nc[len(nc)-2]) // 68 bytes: one '=' of padding
	nc[len(nc)-2] = alphabet[last|1]
	nonCanonical := string(nc)

	// S + L: a non-canonical scalar, same signature value mod L.
	// L = 2^252 + 27742317777372353535851937790883648493 (RFC 8032).
	ell := new(big.Int).Lsh(big.NewInt(1), 252)
	c, _ := new(big.Int).SetString("27742317777372353535851937790883648493", 10)
	ell.Add(ell, c)
	sLE := raw[4+32:]
	sBE := make([]byte, 32)
	for i := range sLE {
		sBE[31-i] = sLE[i]
	}
	sPlusL := new(big.Int).Add(new(big.Int).SetBytes(sBE), ell).FillBytes(make([]byte, 32))
	bigS := append([]byte{}, raw[:4+32]...)
	for i := 31; i >= 0; i-- {
		bigS = append(bigS, sPlusL[i])
	}

	// The identity point as a public key (small order): R = identity,
	// S = 0 satisfies the cofactorless equation for every message.
	identity := make([]byte, 32)
	identity[0] = 1
	weakName := "weak.example/key"
	weakVkey, err := note.NewEd25519VerifierKey(weakName, identity)
	if err != nil {
		return err
	}
	weakSig := append(beID(keyID(weakName, algEd25519, identity)), append(append([]byte{}, identity...), make([]byte, 32)...)...)

	var hundred strings.Builder
	for i := 0; i < 99; i++ {
		hundred.WriteString(unknownLine(i))
	}
	flipped := append([]byte{}, raw...)
	flipped[10] ^= 1

	cases := []struct {
		name  string
		note  []byte
		vkeys []string
	}{
		{"baseline", good, []string{logVkey}},
		{"noncanonical-base64-signature", []byte(text + "\n— " + logName + " " + nonCanonical + "\n"), []string{logVkey}},
		{"duplicate-signature-line", []byte(string(good) + goodLine), []string{logVkey}},
		{"unknown-key-only", []byte(text + "\n" + unknownLine(1)), []string{logVkey}},
		{"unknown-then-known", []byte(text + "\n" + unknownLine(1) + goodLine), []string{logVkey}},
		{"100-signatures", []byte(text + "\n" + hundred.String() + goodLine), []string{logVkey}},
		{"101-signatures", []byte(text + "\n" + hundred.String() + unknownLine(100) + goodLine), []string{logVkey}},
		{"flipped-signature-bit", []byte(text + "\n" + lineWith(logName, flipped)), []string{logVkey}},
		{"signature-65-bytes", []byte(text + "\n" + lineWith(logName, append(append([]byte{}, raw...), 0))), []string{logVkey}},
		{"noncanonical-scalar-s-plus-l", []byte(text + "\n" + lineWith(logName, bigS)), []string{logVkey}},
		{"small-order-key-identity", []byte(text + "\n" + lineWith(weakName, weakSig)), []string{weakVkey}},
		{"no-final-newline", []byte(strings.TrimSuffix(string(good), "\n")), []string{logVkey}},
		{"blank-line-after-signatures", []byte(string(good) + "\n"), []string{logVkey}},
		{"hyphen-instead-of-em-dash", []byte(text + "\n- " + strings.TrimPrefix(goodLine, "— ")), []string{logVkey}},
		{"empty-signature", []byte(text + "\n— " + logName + " \n"), []string{logVkey}},
		{"short-signature-4-bytes", []byte(text + "\n" + lineWith(logName, raw[:4])), []string{logVkey}},
		{"tab-in-text", signedOrNil("a\tb\n", signers[logName]), []string{logVkey}},
		{"carriage-return-in-text", signedOrNil("a\r\n", signers[logName]), []string{logVkey}},
		{"invalid-utf8-in-text", signedOrNil("a\xffb\n", signers[logName]), []string{logVkey}},
		{"no-blank-line", []byte(text + goodLine), []string{logVkey}},
		{"text-is-only-newline", signedOrNil("\n", signers[logName]), []string{logVkey}},
		{"name-with-plus", []byte(text + "\n" + lineWith("a+b", raw)), []string{logVkey}},
		{"two-spaces-after-name", []byte(text + "\n— " + logName + "  " + sigB64 + "\n"), []string{logVkey}},
	}
	for _, c := range cases {
		var vs []note.Verifier
		for _, k := range c.vkeys {
			kv, err := note.NewVerifier(k)
			if err != nil {
				return fmt.Errorf("case %s: %v", c.name, err)
			}
			vs = append(vs, kv)
		}
		_, err := note.Open(c.note, note.VerifierList(vs...))
		v.NoteCases = append(v.NoteCases, NoteCase{c.name, hex.EncodeToString(c.note), c.vkeys, err == nil, errString(err)})
	}

	// Key strings.
	pub := ed25519.NewKeyFromSeed(seedFor("k")).Public().(ed25519.PublicKey)
	vkeyFor := func(name string) string {
		s, _ := note.NewEd25519VerifierKey(name, pub)
		return s
	}
	upper := vkeyFor("upper.example")
	parts := strings.SplitN(upper, "+", 3)
	notOnCurve := make([]byte, 32)
	notOnCurve[0] = 2 // y = 2 has no x on edwards25519
	blobKey := func(name string, blob []byte) string {
		h := sha256.Sum256(append([]byte(name+"\n"), blob...))
		return fmt.Sprintf("%s+%08x+%s", name, binary.BigEndian.Uint32(h[:]), base64.StdEncoding.EncodeToString(blob))
	}
	_, cosVkey := cosignKeyStrings("w.example", seedFor("w"))
	keyCases := []struct{ name, key string }{
		{"valid", vkeyFor("example.com/log")},
		{"uppercase-key-id", parts[0] + "+" + strings.ToUpper(parts[1]) + "+" + parts[2]},
		{"signed-key-id", parts[0] + "+" + "+" + parts[1][1:] + "+" + parts[2]},
		{"point-not-on-curve", blobKey("bad.example", append([]byte{algEd25519}, notOnCurve...))},
		{"identity-point", blobKey("weak.example", append([]byte{algEd25519}, identity...))},
		{"cosignature-type-0x04", cosVkey},
		{"unknown-type-0x02", blobKey("t.example", append([]byte{0x02}, pub...))},
		{"short-key-31-bytes", blobKey("s.example", append([]byte{algEd25519}, pub[:31]...))},
		{"trailing-junk", vkeyFor("j.example") + "+junk"},
	}
	for _, n := range []struct{ name, value string }{
		{"name-ascii-path", "example.com/log/a_b-c~d"}, {"name-space", "a b"},
		{"name-tab", "a\tb"}, {"name-nbsp", "a\u00a0b"}, {"name-nel", "a\u0085b"},
		{"name-em-space", "a\u2003b"}, {"name-ideographic-space", "a\u3000b"},
		{"name-line-separator", "a\u2028b"}, {"name-zero-width-space", "a\u200bb"},
		{"name-mongolian-vowel-separator", "a\u180eb"}, {"name-ogham-space", "a\u1680b"},
		{"name-narrow-nbsp", "a\u202fb"}, {"name-file-separator-0x1c", "a\u001cb"},
		{"name-unicode", "é.example/ü☃"}, {"name-em-dash", "a—b"}, {"name-empty", ""},
		{"name-bom", "\ufeffa"},
	} {
		keyCases = append(keyCases, struct{ name, key string }{n.name, vkeyFor(n.value)})
	}
	for _, c := range keyCases {
		_, err := note.NewVerifier(c.key)
		v.KeyCases = append(v.KeyCases, KeyCase{c.name, c.key, err == nil, errString(err)})
	}

	// Tree texts (tlog.ParseTree).
	r300 := roots[300]
	root := base64.StdEncoding.EncodeToString(r300[:])
	rc := []byte(root)
	rc[len(rc)-2] = alphabet[strings.IndexByte(alphabet, rc[len(rc)-2])|1]
	prefix := "go.sum database tree\n"
	treeCases := []struct{ name, text string }{
		{"valid", prefix + "300\n" + root + "\n"},
		{"noncanonical-base64-root", prefix + "300\n" + string(rc) + "\n"},
		{"size-leading-zero", prefix + "0300\n" + root + "\n"},
		{"size-plus-sign", prefix + "+300\n" + root + "\n"},
		{"size-zero", prefix + "0\n" + root + "\n"},
		{"size-2^63-1", prefix + "9223372036854775807\n" + root + "\n"},
		{"size-2^63", prefix + "9223372036854775808\n" + root + "\n"},
		{"root-unpadded", prefix + "300\n" + strings.TrimRight(root, "=") + "\n"},
		{"no-final-newline", prefix + "300\n" + root},
		{"extension-line", prefix + "300\n" + root + "\nextension\n"},
		{"empty-extension-line", prefix + "300\n" + root + "\n\n"},
	}
	for _, c := range treeCases {
		_, err := tlog.ParseTree([]byte(c.text))
		v.TreeCases = append(v.TreeCases, TreeCase{c.name, c.text, err == nil, errString(err)})
	}
	return nil
}

func beID(id uint32) []byte {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], id)
	return b[:]
}

func signedOrNil(text string, s note.Signer) []byte {
	msg, err := note.Sign(&note.Note{Text: text}, s)
	if err != nil {
		panic(err)
	}
	return msg
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// ---------------------------------------------------------------------------
// verify

type checker struct {
	counts   map[string]int
	failures []string
}

func (c *checker) ok(section string) { c.counts[section]++ }

func (c *checker) fail(section, format string, args ...interface{}) {
	c.counts[section]++
	c.failures = append(c.failures, fmt.Sprintf("MISMATCH [%s] %s", section, fmt.Sprintf(format, args...)))
}

func decodeHashes(s string) ([]tlog.Hash, error) {
	b, err := hex.DecodeString(s)
	if err != nil || len(b)%tlog.HashSize != 0 {
		return nil, fmt.Errorf("not hex of 32-byte hashes: %q", s)
	}
	out := make([]tlog.Hash, len(b)/tlog.HashSize)
	for i := range out {
		copy(out[i][:], b[i*tlog.HashSize:])
	}
	return out, nil
}

func verify(in string) error {
	b, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	var v Vectors
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("%s: %v", in, err)
	}
	if v.LeafRule != leafRule {
		return fmt.Errorf("leaf_rule %q, want %q", v.LeafRule, leafRule)
	}
	if v.LeafCount < 1 || v.LeafCount > 1<<20 {
		return fmt.Errorf("leaf_count %d out of range", v.LeafCount)
	}
	s, err := buildStore(v.LeafCount)
	if err != nil {
		return err
	}
	c := &checker{counts: map[string]int{}}
	root := func(n int64) (tlog.Hash, bool) {
		if n < 1 || n > v.LeafCount {
			return tlog.Hash{}, false
		}
		h, err := tlog.TreeHash(n, s)
		return h, err == nil
	}

	for _, r := range v.Roots {
		want, ok := root(r.Size)
		if !ok {
			c.fail("roots", "size %d outside the tree", r.Size)
		} else if r.Hash != hex.EncodeToString(want[:]) {
			c.fail("roots", "size %d: got %s, Go computes %x", r.Size, r.Hash, want)
		} else {
			c.ok("roots")
		}
	}
	for _, p := range v.Inclusion {
		th, ok := root(p.Size)
		proof, err := decodeHashes(p.Proof)
		if !ok || err != nil || p.Index < 0 || p.Index >= p.Size {
			c.fail("inclusion", "index %d size %d: bad vector (%v)", p.Index, p.Size, err)
			continue
		}
		if err := tlog.CheckRecord(proof, p.Size, th, p.Index, tlog.RecordHash(leafData(p.Index))); err != nil {
			c.fail("inclusion", "index %d size %d: tlog.CheckRecord: %v", p.Index, p.Size, err)
			continue
		}
		mine, err := tlog.ProveRecord(p.Size, p.Index, s)
		if err != nil || hexHashes(mine) != p.Proof {
			c.fail("inclusion", "index %d size %d: proof verifies but differs from tlog.ProveRecord's", p.Index, p.Size)
			continue
		}
		c.ok("inclusion")
	}
	for _, p := range v.Consistency {
		oldRoot, ok1 := root(p.Old)
		newRoot, ok2 := root(p.New)
		proof, err := decodeHashes(p.Proof)
		if !ok1 || !ok2 || err != nil || p.Old > p.New {
			c.fail("consistency", "old %d new %d: bad vector (%v)", p.Old, p.New, err)
			continue
		}
		if err := tlog.CheckTree(proof, p.New, newRoot, p.Old, oldRoot); err != nil {
			c.fail("consistency", "old %d new %d: tlog.CheckTree: %v", p.Old, p.New, err)
			continue
		}
		mine, err := tlog.ProveTree(p.New, p.Old, s)
		if err != nil || hexHashes(mine) != p.Proof {
			c.fail("consistency", "old %d new %d: proof verifies but differs from tlog.ProveTree's", p.Old, p.New)
			continue
		}
		c.ok("consistency")
	}

	have := map[string]bool{}
	for _, t := range v.Tiles {
		have[t.Path] = true
		gp, err := goPath(t.Path)
		if err != nil {
			c.fail("tiles", "%v", err)
			continue
		}
		gt, err := tlog.ParseTilePath(gp)
		if err != nil || gt.L < 0 {
			c.fail("tiles", "%s: Go cannot parse %s: %v", t.Path, gp, err)
			continue
		}
		want, err := tlog.ReadTileData(gt, s)
		if err != nil {
			c.fail("tiles", "%s: %v", t.Path, err)
		} else if t.Data != hex.EncodeToString(want) {
			c.fail("tiles", "%s: contents differ from tlog.ReadTileData", t.Path)
		} else {
			c.ok("tiles")
		}
	}
	for _, n := range v.TileSizes {
		for _, t := range tilesOfTree(n) {
			if !have[c2spPath(t)] {
				c.fail("tiles", "tree size %d: tile %s missing", n, c2spPath(t))
			}
		}
	}
	for _, ch := range v.ChangedTiles {
		var want []string
		for _, t := range normalizeNewTiles(ch.Old, ch.New) {
			want = append(want, c2spPath(t))
		}
		if strings.Join(want, " ") != strings.Join(ch.Paths, " ") {
			c.fail("changed_tiles", "%d -> %d: got %v, Go's NewTiles (normalized) gives %v", ch.Old, ch.New, ch.Paths, want)
		} else {
			c.ok("changed_tiles")
		}
	}
	for _, tp := range v.TilePaths {
		want := c2spPath(tlog.Tile{H: tileHeight, L: tp.Level, N: tp.Index, W: tp.Width})
		gp, _ := goPath(tp.Path)
		parsed, err := tlog.ParseTilePath(gp)
		if tp.Path != want || err != nil || parsed != (tlog.Tile{H: tileHeight, L: tp.Level, N: tp.Index, W: tp.Width}) {
			c.fail("tile_paths", "(%d,%d,%d): got %s, Go writes %s (parse: %v)", tp.Level, tp.Index, tp.Width, tp.Path, want, err)
		} else {
			c.ok("tile_paths")
		}
	}
	for _, t := range v.Trees {
		tree, err := tlog.ParseTree([]byte(t.Text))
		want, ok := root(t.Size)
		if err != nil || !ok || tree.N != t.Size || tree.Hash != want {
			c.fail("trees", "size %d: tlog.ParseTree(%q) = %v, %v", t.Size, t.Text, tree, err)
		} else if string(tlog.FormatTree(tree)) != t.Text {
			c.fail("trees", "size %d: text differs from tlog.FormatTree", t.Size)
		} else {
			c.ok("trees")
		}
	}

	verifiers, signers, cosignKeys := map[string]note.Verifier{}, map[string]note.Signer{}, map[string]ed25519.PrivateKey{}
	for _, k := range v.Keys {
		switch k.Kind {
		case "ed25519":
			kv, err1 := note.NewVerifier(k.Verifier)
			ks, err2 := note.NewSigner(k.Signer)
			if err1 != nil || err2 != nil || kv.Name() != k.Name || ks.KeyHash() != kv.KeyHash() {
				c.fail("keys", "%s: note.NewVerifier: %v; note.NewSigner: %v", k.Name, err1, err2)
				continue
			}
			verifiers[k.Name], signers[k.Name] = kv, ks
		case "cosignature":
			name, alg, pub, err1 := parseKeyString(k.Verifier, false)
			sname, salg, seed, err2 := parseKeyString(k.Signer, true)
			if err1 != nil || err2 != nil || alg != algCosignature || salg != algCosignature || name != k.Name || sname != k.Name {
				c.fail("keys", "%s: cosignature key strings: %v; %v", k.Name, err1, err2)
				continue
			}
			priv := ed25519.NewKeyFromSeed(seed)
			if !bytes.Equal(priv.Public().(ed25519.PublicKey), pub) {
				c.fail("keys", "%s: signer and verifier keys differ", k.Name)
				continue
			}
			verifiers[k.Name], cosignKeys[k.Name] = &cosignVerifier{name, pub}, priv
		default:
			c.fail("keys", "%s: unknown kind %q", k.Name, k.Kind)
			continue
		}
		c.ok("keys")
	}
	for _, n := range v.Notes {
		var vs []note.Verifier
		var ss []note.Signer
		for _, name := range n.Signers {
			vs, ss = append(vs, verifiers[name]), append(ss, signers[name])
		}
		if len(vs) == 0 || vs[len(vs)-1] == nil || ss[len(ss)-1] == nil {
			c.fail("notes", "%q: unknown signer in %v", n.Text, n.Signers)
			continue
		}
		opened, err := note.Open([]byte(n.Note), note.VerifierList(vs...))
		if err != nil {
			c.fail("notes", "%q: note.Open: %v", n.Text, err)
			continue
		}
		if opened.Text != n.Text || len(opened.Sigs) != len(n.Signers) || len(opened.UnverifiedSigs) != 0 {
			c.fail("notes", "%q: opened text %q with %d verified and %d unverified signatures", n.Text, opened.Text, len(opened.Sigs), len(opened.UnverifiedSigs))
			continue
		}
		again, err := note.Sign(&note.Note{Text: n.Text}, ss...)
		if err != nil || string(again) != n.Note {
			c.fail("notes", "%q: note.Sign with the same keys gives different bytes:\n%s", n.Text, again)
			continue
		}
		c.counts["signatures"] += len(opened.Sigs)
		c.ok("notes")
	}
	for _, cs := range v.Cosigned {
		verifyCosigned(c, cs, verifiers, signers, cosignKeys, root)
	}

	keys := []string{"roots", "inclusion", "consistency", "tiles", "changed_tiles", "tile_paths", "trees", "keys", "notes", "signatures", "cosigned", "cosignatures"}
	var summary []string
	for _, k := range keys {
		summary = append(summary, fmt.Sprintf("%s=%d", k, c.counts[k]))
	}
	for _, f := range c.failures {
		fmt.Fprintln(os.Stderr, f)
	}
	status := "ok"
	if len(c.failures) > 0 {
		status = "FAILED"
	}
	fmt.Printf("gocheck verify: %s %s failures=%d\n", status, strings.Join(summary, " "), len(c.failures))
	if len(c.failures) > 0 {
		os.Exit(1)
	}
	return nil
}

func verifyCosigned(c *checker, cs Cosigned, verifiers map[string]note.Verifier, signers map[string]note.Signer, cosignKeys map[string]ed25519.PrivateKey, root func(int64) (tlog.Hash, bool)) {
	logV, logS := verifiers[cs.LogKey], signers[cs.LogKey]
	if logV == nil || logS == nil {
		c.fail("cosigned", "%s: unknown log key %q", cs.Origin, cs.LogKey)
		return
	}
	// First open with the log key alone: cosignatures are unknown to it.
	opened, err := note.Open([]byte(cs.Note), note.VerifierList(logV))
	if err != nil {
		c.fail("cosigned", "%s size %d: note.Open with the log key: %v", cs.Origin, cs.Size, err)
		return
	}
	want, ok := root(cs.Size)
	// Origin, size and root lines must be Go's; extension lines may follow.
	if !ok || !strings.HasPrefix(opened.Text, checkpointText(cs.Origin, cs.Size, want)) {
		c.fail("cosigned", "%s size %d: checkpoint text %q does not match Go's root", cs.Origin, cs.Size, opened.Text)
		return
	}
	if len(opened.UnverifiedSigs) != len(cs.Witnesses) {
		c.fail("cosigned", "%s size %d: %d unverified signatures, want %d cosignatures", cs.Origin, cs.Size, len(opened.UnverifiedSigs), len(cs.Witnesses))
		return
	}
	vs := []note.Verifier{logV}
	ss := []note.Signer{logS}
	for i, w := range cs.Witnesses {
		wv, ok := verifiers[w.Key].(*cosignVerifier)
		if !ok {
			c.fail("cosigned", "%s: %q is not a cosignature key", cs.Origin, w.Key)
			return
		}
		sig := opened.UnverifiedSigs[i]
		raw, err := base64.StdEncoding.DecodeString(sig.Base64)
		if err != nil || sig.Name != w.Key || sig.Hash != wv.KeyHash() || len(raw) < 4 {
			c.fail("cosignatures", "%s: signature line %d is not by %s+%08x", cs.Origin, i, w.Key, wv.KeyHash())
			return
		}
		t, err := verifyCosignature(wv.pub, []byte(opened.Text), raw[4:])
		if err != nil || t != w.Timestamp {
			c.fail("cosignatures", "%s size %d witness %s: %v (timestamp %d, want %d)", cs.Origin, cs.Size, w.Key, err, t, w.Timestamp)
			return
		}
		c.ok("cosignatures")
		vs = append(vs, wv)
		ss = append(ss, &cosigner{w.Key, cosignKeys[w.Key], w.Timestamp})
	}
	// Then with every key, through note.Open's own verification.
	all, err := note.Open([]byte(cs.Note), note.VerifierList(vs...))
	if err != nil || len(all.Sigs) != len(vs) {
		c.fail("cosigned", "%s size %d: note.Open with all keys: %v", cs.Origin, cs.Size, err)
		return
	}
	again, err := note.Sign(&note.Note{Text: opened.Text}, ss...)
	if err != nil || string(again) != cs.Note {
		c.fail("cosigned", "%s size %d: signing again in Go gives different bytes:\n%s", cs.Origin, cs.Size, again)
		return
	}
	c.counts["signatures"]++
	c.ok("cosigned")
}
