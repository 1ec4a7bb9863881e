#!/usr/bin/env bash
# Runs every check attestlog has: formatting, clippy with warnings as errors,
# rustdoc with warnings as errors, a check with the minimum supported Rust
# version (`rust-version` in Cargo.toml), and all tests (unit, property, Go
# cross-check, GnuPG/sq interop, end-to-end tests that start the real
# binaries on 127.0.0.1), then every fuzz target for 20 s (scripts/fuzz.sh).
#
# It installs what it needs first, so it works on a fresh Debian machine:
#   Debian packages (apt-get, as root or with sudo) and Rust components.
# Build output goes to $CARGO_TARGET_DIR (default ~/.cache/attestlog-target),
# outside the clone, so later runs reuse the compiled dependencies.
#
# Usage: ./scripts/test.sh            (CI: .ci/run calls exactly this)
set -euo pipefail

cd "$(dirname "$0")/.."

./scripts/install-deps.sh --tests

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/attestlog-target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
mkdir -p "$CARGO_TARGET_DIR"

echo "==> cargo fmt --check"
cargo fmt --all -- --check
(cd fuzz && cargo fmt --all -- --check)

echo "==> cargo clippy --all-targets -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "==> cargo doc -D warnings (broken intra-doc links, bad HTML in docs)"
# RUSTDOCFLAGS is read by rustdoc only: the builds around it are unaffected.
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked

MSRV=$(sed -n 's/^rust-version = "\(.*\)"$/\1/p' Cargo.toml)
echo "==> cargo +$MSRV check: the minimum supported Rust version (own target directory)"
# Type-checks every target with that compiler, and cargo refuses any locked
# dependency whose own rust-version is newer. RocksDB's C++ is not compiled
# again: librocksdb-sys takes the library the clippy step built
# (ROCKSDB_LIB_DIR; `check` links nothing anyway).
rocksdb_libs=("$CARGO_TARGET_DIR"/debug/build/librocksdb-sys-*/out/librocksdb.a)
if [ ! -e "${rocksdb_libs[0]}" ]; then
    echo "no librocksdb.a under $CARGO_TARGET_DIR/debug/build (the clippy step builds it)" >&2
    exit 1
fi
CARGO_TARGET_DIR="$HOME/.cache/attestlog-msrv-target" \
    ROCKSDB_LIB_DIR="$(dirname "${rocksdb_libs[0]}")" ROCKSDB_STATIC=1 \
    cargo "+$MSRV" check --workspace --all-targets --locked

echo "==> cargo test (also builds the binaries the end-to-end tests start)"
# One package set and one target selection for clippy and test, so cargo
# resolves the same features and RocksDB's C++ is compiled only once.
cargo test --workspace --locked

echo "==> fuzz: every target for 20 s (scripts/fuzz.sh; own target directory)"
(cd fuzz/seedgen && cargo fmt -- --check)
./scripts/fuzz.sh 20

echo "==> all checks passed"
