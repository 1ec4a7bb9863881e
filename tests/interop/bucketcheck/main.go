// Command bucketcheck reads a log published as static C2SP tlog-tiles
// (for attestlog: its object-store bucket, through the store's website
// endpoint) with Go's golang.org/x/mod/sumdb/note and tlog packages, an
// implementation independent of attestlog's own, and prints the tree it
// verified.
//
// Usage: bucketcheck <base-url> <host-header> <verifier-key>
//
// It fetches <base-url>/checkpoint (sending Host: <host-header> if it is
// not empty, as a website endpoint reached by IP address needs), opens the
// note with the verifier key, reads the tree's hash tiles through
// tlog.TileHashReader (which checks every tile against the checkpoint's
// root), recomputes the root with tlog.TreeHash, and checks that every
// entry bundle's entries hash (tlog.RecordHash) to the level-0 hashes. The
// exit status is 1 on the first failure; on success it prints
// "size <N> root <base64>".
//
// Run offline, in GOPATH mode, with Debian's golang-golang-x-mod-dev.
package main

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

const tileHeight = 8

var client = &http.Client{Timeout: 20 * time.Second}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "bucketcheck: "+format+"\n", args...)
	os.Exit(1)
}

func get(base, host, path string) ([]byte, error) {
	req, err := http.NewRequest("GET", base+"/"+path, nil)
	if err != nil {
		return nil, err
	}
	if host != "" {
		req.Host = host
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("GET %s: status %d", path, resp.StatusCode)
	}
	return body, nil
}

// c2spPath maps Go's tile path (tile/8/L/N[.p/W], with the height) to
// C2SP tlog-tiles' (tile/L/N[.p/W]); level -1 is Go's data tile, C2SP's
// entry bundle (tile/entries/N[.p/W]).
func c2spPath(t tlog.Tile) string {
	p := t.Path()
	prefix := fmt.Sprintf("tile/%d/", tileHeight)
	if !strings.HasPrefix(p, prefix) {
		fail("unexpected Go tile path %s", p)
	}
	rest := strings.TrimPrefix(p, prefix)
	if strings.HasPrefix(rest, "data/") {
		return "tile/entries/" + strings.TrimPrefix(rest, "data/")
	}
	return "tile/" + rest
}

type tiles struct{ base, host string }

func (r tiles) Height() int { return tileHeight }

func (r tiles) ReadTiles(ts []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(ts))
	for i, t := range ts {
		b, err := get(r.base, r.host, c2spPath(t))
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

func (r tiles) SaveTiles([]tlog.Tile, [][]byte) {}

func main() {
	if len(os.Args) != 4 {
		fail("usage: bucketcheck <base-url> <host-header> <verifier-key>")
	}
	base, host, vkey := strings.TrimRight(os.Args[1], "/"), os.Args[2], os.Args[3]
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		fail("verifier key: %v", err)
	}
	raw, err := get(base, host, "checkpoint")
	if err != nil {
		fail("%v", err)
	}
	n, err := note.Open(raw, note.VerifierList(verifier))
	if err != nil {
		fail("checkpoint does not open with the log key: %v", err)
	}
	lines := strings.SplitN(n.Text, "\n", 4)
	if len(lines) < 4 || lines[0] != verifier.Name() {
		fail("checkpoint text %q is not for origin %s", n.Text, verifier.Name())
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		fail("checkpoint size %q: %v", lines[1], err)
	}
	rootBytes, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(rootBytes) != tlog.HashSize {
		fail("checkpoint root %q", lines[2])
	}
	var root tlog.Hash
	copy(root[:], rootBytes)
	tree := tlog.Tree{N: size, Hash: root}
	reader := tlog.TileHashReader(tree, tiles{base, host})
	got, err := tlog.TreeHash(size, reader)
	if err != nil {
		fail("reading the tree from its tiles: %v", err)
	}
	if got != root {
		fail("root from tiles %v, checkpoint says %v", got, root)
	}
	// Every entry bundle, against the verified level-0 hashes.
	for start := int64(0); start < size; start += 256 {
		width := size - start
		if width > 256 {
			width = 256
		}
		t := tlog.Tile{H: tileHeight, L: -1, N: start / 256, W: int(width)}
		bundle, err := get(base, host, c2spPath(t))
		if err != nil {
			fail("%v", err)
		}
		indexes := make([]int64, width)
		for i := range indexes {
			indexes[i] = tlog.StoredHashIndex(0, start+int64(i))
		}
		want, err := reader.ReadHashes(indexes)
		if err != nil {
			fail("level-0 hashes for bundle %d: %v", t.N, err)
		}
		for i := int64(0); i < width; i++ {
			if len(bundle) < 2 {
				fail("bundle %d ends before entry %d", t.N, i)
			}
			l := int(binary.BigEndian.Uint16(bundle))
			if len(bundle) < 2+l {
				fail("bundle %d: entry %d truncated", t.N, i)
			}
			if tlog.RecordHash(bundle[2:2+l]) != want[i] {
				fail("entry %d does not hash to its leaf hash", start+i)
			}
			bundle = bundle[2+l:]
		}
		if len(bundle) != 0 {
			fail("bundle %d has %d trailing bytes", t.N, len(bundle))
		}
	}
	fmt.Printf("size %d root %s\n", size, base64.StdEncoding.EncodeToString(root[:]))
}
