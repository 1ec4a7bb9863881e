// gen: the vectors Go writes for attestlog-core to check (see main.go).

package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

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
	nonCanonical := nonCanonicalBase64(raw)
	unknownNonCanonical := "— other.example/nc " + nonCanonicalBase64([]byte{0, 0, 0, 9, 1, 2, 3}) + "\n"

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
		{"noncanonical-base64-unknown-key", []byte(text + "\n" + unknownNonCanonical + goodLine), []string{logVkey}},
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
	rc := nonCanonicalBase64(r300[:])
	prefix := "go.sum database tree\n"
	treeCases := []struct{ name, text string }{
		{"valid", prefix + "300\n" + root + "\n"},
		{"noncanonical-base64-root", prefix + "300\n" + rc + "\n"},
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

// nonCanonicalBase64 encodes b (whose length is not a multiple of 3) with
// a non-zero unused bit in the last digit: the same bytes to a lenient
// decoder, an error to a strict one.
func nonCanonicalBase64(b []byte) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	s := []byte(base64.StdEncoding.EncodeToString(b))
	i := bytes.LastIndexFunc(s, func(r rune) bool { return r != '=' })
	s[i] = alphabet[strings.IndexByte(alphabet, s[i])|1]
	return string(s)
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
