// Command tlogclient is a C2SP tlog-witness client written from the
// specification, independent of attestlog's Rust code. It acts as a log:
// it builds a tree with golang.org/x/mod/sumdb/tlog, signs checkpoints with
// golang.org/x/mod/sumdb/note, submits them to a witness with
// add-checkpoint, and verifies the returned cosignature/v1 lines itself
// with crypto/ed25519.
//
// Usage: tlogclient <witness base URL> <log signer key> <witness verifier key>
package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "tlogclient: "+format+"\n", args...)
	os.Exit(1)
}

// tree is an in-memory tlog tree.
type tree struct{ hashes []tlog.Hash }

func (t *tree) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x >= int64(len(t.hashes)) {
			return nil, fmt.Errorf("no hash %d", x)
		}
		out[i] = t.hashes[x]
	}
	return out, nil
}

func (t *tree) add(n int64, data []byte) {
	hs, err := tlog.StoredHashes(n, data, t)
	if err != nil {
		fail("storing hashes: %v", err)
	}
	t.hashes = append(t.hashes, hs...)
}

// witnessKey is a parsed cosignature/v1 verifier key: name+hex(id)+base64(0x04||pub).
type witnessKey struct {
	name string
	id   uint32
	pub  ed25519.PublicKey
}

func parseWitnessKey(s string) witnessKey {
	parts := strings.SplitN(s, "+", 3)
	if len(parts) != 3 {
		fail("witness key %q: want name+id+key", s)
	}
	raw, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(raw) != 33 || raw[0] != 0x04 {
		fail("witness key %q: want base64 of 0x04 and 32 bytes", s)
	}
	id, err := strconv.ParseUint(parts[1], 16, 32)
	if err != nil {
		fail("witness key id: %v", err)
	}
	h := sha256.Sum256(append([]byte(parts[0]+"\n"), raw...))
	if binary.BigEndian.Uint32(h[:4]) != uint32(id) {
		fail("witness key id %s does not match the key", parts[1])
	}
	return witnessKey{parts[0], uint32(id), ed25519.PublicKey(raw[1:])}
}

// verifyCosignatures checks every line from the witness key, per C2SP
// tlog-cosignature, and returns how many there were.
func verifyCosignatures(k witnessKey, text string, body []byte) int {
	n := 0
	for _, line := range strings.SplitAfter(string(body), "\n") {
		if line == "" {
			continue
		}
		if !strings.HasPrefix(line, "\u2014 ") || !strings.HasSuffix(line, "\n") {
			fail("response line %q is not a note signature line", line)
		}
		fields := strings.SplitN(strings.TrimSuffix(strings.TrimPrefix(line, "\u2014 "), "\n"), " ", 2)
		if len(fields) != 2 || fields[0] != k.name {
			continue // C2SP: clients MUST ignore cosignatures from unknown keys
		}
		sig, err := base64.StdEncoding.DecodeString(fields[1])
		if err != nil || len(sig) != 4+8+64 {
			fail("cosignature %q: want 76 bytes of base64", fields[1])
		}
		if binary.BigEndian.Uint32(sig[:4]) != k.id {
			continue
		}
		ts := binary.BigEndian.Uint64(sig[4:12])
		if ts == 0 || ts >= 1<<63 {
			fail("cosignature timestamp %d out of range", ts)
		}
		msg := fmt.Sprintf("cosignature/v1\ntime %d\n%s", ts, text)
		if !ed25519.Verify(k.pub, []byte(msg), sig[12:]) {
			fail("cosignature by %s does not verify", k.name)
		}
		n++
	}
	return n
}

func post(url string, body []byte) (int, string, []byte) {
	resp, err := http.Post(url+"/add-checkpoint", "text/plain", bytes.NewReader(body))
	if err != nil {
		fail("POST: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil {
		fail("reading the response: %v", err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}

func main() {
	if len(os.Args) != 4 {
		fail("usage: tlogclient <witness URL> <log signer key> <witness verifier key>")
	}
	url, skey, wkey := os.Args[1], os.Args[2], parseWitnessKey(os.Args[3])
	signer, err := note.NewSigner(skey)
	if err != nil {
		fail("log signer key: %v", err)
	}
	origin := signer.Name()
	t := &tree{}
	for i := int64(0); i < 7; i++ {
		t.add(i, []byte(fmt.Sprintf("go leaf %d", i)))
	}
	checkpoint := func(n int64) (string, []byte) {
		root, err := tlog.TreeHash(n, t)
		if err != nil {
			fail("tree hash: %v", err)
		}
		text := fmt.Sprintf("%s\n%d\n%s\n", origin, n, base64.StdEncoding.EncodeToString(root[:]))
		signed, err := note.Sign(&note.Note{Text: text}, signer)
		if err != nil {
			fail("signing: %v", err)
		}
		return text, signed
	}

	// The first checkpoint: old 0, no proof.
	text3, note3 := checkpoint(3)
	status, _, body := post(url, append([]byte("old 0\n\n"), note3...))
	if status != 200 {
		fail("old 0 -> 3: status %d: %s", status, body)
	}
	if verifyCosignatures(wkey, text3, body) != 1 {
		fail("old 0 -> 3: no cosignature from %s in %q", wkey.name, body)
	}

	// Growth with a consistency proof from tlog.ProveTree.
	text7, note7 := checkpoint(7)
	proof, err := tlog.ProveTree(7, 3, t)
	if err != nil {
		fail("proving: %v", err)
	}
	req := "old 3\n"
	for _, h := range proof {
		req += base64.StdEncoding.EncodeToString(h[:]) + "\n"
	}
	status, _, body = post(url, append([]byte(req+"\n"), note7...))
	if status != 200 {
		fail("old 3 -> 7: status %d: %s", status, body)
	}
	if verifyCosignatures(wkey, text7, body) != 1 {
		fail("old 3 -> 7: no cosignature from %s in %q", wkey.name, body)
	}

	// A stale old size: 409 with the stored size.
	status, ctype, body := post(url, append([]byte("old 0\n\n"), note7...))
	if status != 409 || ctype != "text/x.tlog.size" || string(body) != "7\n" {
		fail("stale old size: got %d %q %q, want 409 text/x.tlog.size \"7\\n\"", status, ctype, body)
	}
	fmt.Printf("tlogclient: ok origin=%s sha256=%s\n", origin, hex.EncodeToString(func() []byte { h := sha256.Sum256([]byte(origin)); return h[:] }()))
}
