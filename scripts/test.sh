#!/usr/bin/env bash
# Runs every check attestlog has: formatting, clippy with warnings as errors,
# and all tests (unit, property, Go cross-check, GnuPG/sq interop,
# end-to-end tests that start the real binaries on 127.0.0.1), then every
# fuzz target for 20 s (scripts/fuzz.sh).
#
# It installs what it needs first, so it works on a fresh Debian machine:
#   Debian packages (apt-get, as root or with sudo) and Rust components.
# Build output goes to $CARGO_TARGET_DIR (default ~/.cache/attestlog-target),
# outside the clone, so later runs reuse the compiled dependencies.
#
# Usage: ./scripts/test.sh            (CI: .ci/run calls exactly this)
set -euo pipefail

cd "$(dirname "$0")/.."

./scripts/install-deps.sh

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/attestlog-target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
mkdir -p "$CARGO_TARGET_DIR"

echo "==> cargo fmt --check"
cargo fmt --all -- --check
(cd fuzz && cargo fmt --all -- --check)

echo "==> cargo clippy --all-targets -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "==> cargo test (also builds the binaries the end-to-end tests start)"
# One package set and one target selection for clippy and test, so cargo
# resolves the same features and RocksDB's C++ is compiled only once.
cargo test --workspace --locked

echo "==> fuzz: every target for 20 s (scripts/fuzz.sh; own target directory)"
(cd fuzz/seedgen && cargo fmt -- --check)
./scripts/fuzz.sh 20

echo "==> all checks passed"
