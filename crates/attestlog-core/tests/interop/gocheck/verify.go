// verify: Go's checks of the vectors attestlog-core writes (see main.go).

package main

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

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
