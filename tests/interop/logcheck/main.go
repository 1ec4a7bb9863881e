// Command logcheck verifies what a running attestlog log returned, with
// Go's golang.org/x/mod/sumdb/note and tlog packages: an implementation
// independent of attestlog's own.
//
// Usage: logcheck <vectors.json>
//
// The JSON holds the log's verifier key, its origin, the signed checkpoint
// notes a client received, inclusion proofs (entry bytes, index, audit
// path, and which checkpoint they are for) and consistency proofs between
// two of the checkpoints. Every note must open with the verifier key and
// every proof must check; the exit status is 1 on the first failure.
//
// Run offline, in GOPATH mode, with Debian's golang-golang-x-mod-dev:
//
//	GO111MODULE=off GOPATH=$TMP:/usr/share/gocode go run main.go vectors.json
package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type inclusion struct {
	Checkpoint int      `json:"checkpoint"`
	Index      int64    `json:"index"`
	Entry      string   `json:"entry"`
	Proof      []string `json:"proof"`
}

type consistency struct {
	Old   int      `json:"old"`
	New   int      `json:"new"`
	Proof []string `json:"proof"`
}

type vectors struct {
	VerifierKey string        `json:"verifier_key"`
	Origin      string        `json:"origin"`
	Checkpoints []string      `json:"checkpoints"`
	Inclusion   []inclusion   `json:"inclusion"`
	Consistency []consistency `json:"consistency"`
}

type tree struct {
	size int64
	root tlog.Hash
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "logcheck: "+format+"\n", args...)
	os.Exit(1)
}

func decodeHash(s string) tlog.Hash {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != tlog.HashSize {
		fail("bad hash %q", s)
	}
	var h tlog.Hash
	copy(h[:], b)
	return h
}

// parseCheckpoint reads the C2SP tlog-checkpoint body: origin, size, root.
func parseCheckpoint(text, origin string) tree {
	lines := strings.Split(text, "\n")
	if len(lines) < 4 || lines[0] != origin {
		fail("checkpoint text %q does not start with origin %q", text, origin)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 {
		fail("bad size line %q", lines[1])
	}
	return tree{size: size, root: decodeHash(lines[2])}
}

func main() {
	if len(os.Args) != 2 {
		fail("usage: logcheck <vectors.json>")
	}
	raw, err := os.ReadFile(os.Args[1])
	if err != nil {
		fail("%v", err)
	}
	var v vectors
	if err := json.Unmarshal(raw, &v); err != nil {
		fail("parsing %s: %v", os.Args[1], err)
	}
	verifier, err := note.NewVerifier(v.VerifierKey)
	if err != nil {
		fail("verifier key: %v", err)
	}
	var trees []tree
	for i, msg := range v.Checkpoints {
		n, err := note.Open([]byte(msg), note.VerifierList(verifier))
		if err != nil {
			fail("checkpoint %d does not open: %v", i, err)
		}
		trees = append(trees, parseCheckpoint(n.Text, v.Origin))
	}
	for _, in := range v.Inclusion {
		entry, err := base64.StdEncoding.DecodeString(in.Entry)
		if err != nil {
			fail("entry %d: %v", in.Index, err)
		}
		var proof tlog.RecordProof
		for _, p := range in.Proof {
			proof = append(proof, decodeHash(p))
		}
		t := trees[in.Checkpoint]
		if err := tlog.CheckRecord(proof, t.size, t.root, in.Index, tlog.RecordHash(entry)); err != nil {
			fail("inclusion of %d in %d: %v", in.Index, t.size, err)
		}
	}
	for _, c := range v.Consistency {
		var proof tlog.TreeProof
		for _, p := range c.Proof {
			proof = append(proof, decodeHash(p))
		}
		o, n := trees[c.Old], trees[c.New]
		if err := tlog.CheckTree(proof, n.size, n.root, o.size, o.root); err != nil {
			fail("consistency %d -> %d: %v", o.size, n.size, err)
		}
	}
	fmt.Printf("ok checkpoints=%d inclusion=%d consistency=%d\n",
		len(v.Checkpoints), len(v.Inclusion), len(v.Consistency))
}
