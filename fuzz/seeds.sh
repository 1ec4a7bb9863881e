#!/usr/bin/env bash
# Regenerates the committed seed corpus, fuzz/corpus/<target>/: small, real
# inputs (a few KiB per target) from which the fuzzers start.
#
#   * the GnuPG test vectors of attestlog-attest (statement, detached
#     signature, certificate, leaves);
#   * messages signed by GnuPG with a throwaway Ed25519 key, at a faked
#     time before the targets' `now` (2026-01-01) so that signature checks
#     are reached: inline-signed (compressed, uncompressed, armored),
#     cleartext-signed, detached;
#   * notes, checkpoints, cosignatures, proofs, tiles, tlog-witness bodies,
#     evidence, policies, maintainers files, bundles and tlog-proofs written by fuzz/seedgen
#     with attestlog-core from fixed keys.
#
# Only seeds are committed; the corpus the fuzzers grow lives in
# $HOME/.cache/attestlog-fuzz-corpus/<target>/ (scripts/fuzz.sh).
# The GnuPG key is new on each run, so signed seeds differ between runs.
#
# Usage: fuzz/seeds.sh   (needs gpg and cargo; writes fuzz/corpus/)
set -euo pipefail

cd "$(dirname "$0")"
corpus="$PWD/corpus"
vectors="$PWD/../crates/attestlog-attest/tests/vectors/gpg-ed25519"
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-$HOME/.cache/attestlog-fuzz-target}"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
export GNUPGHOME="$tmp/gnupg"
mkdir -m 700 "$GNUPGHOME"

put() { # target name < bytes
    mkdir -p "$corpus/$1"
    cat >"$corpus/$1/$2"
}

# Prefixes the mode byte of attest_openpgp_input (0 inline, 1 detached
# over `{}`, 2 detached with the first half as statement and certificate).
mode() { printf "\\x0$1"; }

gpg --dearmor <"$vectors/cert.asc" >"$tmp/cert.bin"
cargo run --quiet --locked --manifest-path seedgen/Cargo.toml -- \
    "$corpus" "$vectors" "$tmp/cert.bin"

# Vectors.
put attest_statement statement.json <"$vectors/statement.json"
{ mode 1; cat "$vectors/statement.json.sig"; } | put attest_openpgp_input detached-vector

# Statements of the other shapes (docs/SPEC.md 6.2.2 and 6.2.4).
put attest_statement intoto-minimal <<'EOF'
{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256":"fd7e16da684f436702ba21c88491d36b19c94211c3b49442495b022c2dd66263","sha512":"x"}}],"predicateType":"https://slsa.dev/provenance/v1","predicate":{"a":[1,2.5e3,null,true,"\u0061"]}}
EOF
put attest_statement simple-signing <<'EOF'
{"critical":{"type":"atomic container signature","image":{"docker-manifest-digest":"sha256:fd7e16da684f436702ba21c88491d36b19c94211c3b49442495b022c2dd66263"},"identity":{"docker-reference":"registry.example.org/stagex/core-gcc"}},"optional":{"creator":"stagex","timestamp":1764028800}}
EOF

# GnuPG-signed messages over the vector statement, at faked times.
g() {
    gpg --batch --quiet --no-tty --pinentry-mode loopback --passphrase '' "$@" \
        2> >(grep -v 'running with faked system time' >&2)
}
g --faked-system-time 20251201T000000! \
    --quick-gen-key 'Fuzz Seed <fuzz-seed@example.org>' ed25519 sign never 2>/dev/null
s() { g --faked-system-time 20251215T000000! -u fuzz-seed@example.org "$@"; }
st="$vectors/statement.json"
s --sign -o "$tmp/inline.gpg" "$st"
s --sign --compress-level 0 -o "$tmp/inline-plain.gpg" "$st"
s --armor --sign -o "$tmp/inline.asc" "$st"
s --clearsign -o "$tmp/clear.asc" "$st"
printf '{}' >"$tmp/empty.json"
s --detach-sign -o "$tmp/empty.sig" "$tmp/empty.json"
s --armor --detach-sign -o "$tmp/empty.asc" "$tmp/empty.json"
g --armor --export fuzz-seed@example.org >"$tmp/seed-cert.asc"
s --armor --detach-sign -o "$tmp/cert.sig.asc" "$tmp/seed-cert.asc"

for m in inline.gpg inline-plain.gpg inline.asc clear.asc; do
    put attest_inline_message "$m" <"$tmp/$m"
    { mode 0; cat "$tmp/$m"; } | put attest_openpgp_input "$m"
done
{ mode 1; cat "$tmp/empty.sig"; } | put attest_openpgp_input detached.sig
{ mode 1; cat "$tmp/empty.asc"; } | put attest_openpgp_input detached.asc
# Mode 2 splits the rest in two equal halves: the certificate (as the
# statement and the certificate, armored) and an armored signature over
# it, padded with newlines (armor allows trailing whitespace) to the same
# length.
cert_len=$(stat -c %s "$tmp/seed-cert.asc")
sig_len=$(stat -c %s "$tmp/cert.sig.asc")
if [ "$sig_len" -le "$cert_len" ]; then
    {
        mode 2
        cat "$tmp/seed-cert.asc" "$tmp/cert.sig.asc"
        head -c $((cert_len - sig_len)) /dev/zero | tr '\0' '\n'
    } | put attest_openpgp_input detached-with-cert
fi

# SSH: signatures made by ssh-keygen in the attestlog namespace (the
# target verifies them over "statement", as signed here), and an
# allowed_signers file with every option.
printf 'statement' >"$tmp/statement"
for kind in ed25519 ecdsa rsa; do
    ssh-keygen -q -t "$kind" -N '' -C "$kind@fuzz.test" -f "$tmp/ssh-$kind"
    ssh-keygen -q -Y sign -n attestlog -f "$tmp/ssh-$kind" "$tmp/statement"
    put attest_ssh "sig-$kind" <"$tmp/statement.sig"
    rm "$tmp/statement.sig"
done
{
    echo "# maintainers"
    echo "a@fuzz.test,*@b.test,!c@b.test namespaces=\"attestlog,git\" $(cat "$tmp/ssh-ed25519.pub")"
    echo "\"d@fuzz.test\" valid-after=\"20200101\",valid-before=\"20991231235959Z\" $(cat "$tmp/ssh-ecdsa.pub")"
    echo "e@fuzz.test cert-authority $(cat "$tmp/ssh-rsa.pub")"
} | put attest_ssh allowed_signers

du -sh "$corpus"/* | sed 's|'"$corpus"'/||'
