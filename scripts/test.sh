#!/usr/bin/env bash
# Runs every check attestlog has: formatting, clippy with warnings as errors,
# and all tests (unit, property, Go cross-check, GnuPG/sq interop,
# end-to-end tests that start the real binaries on 127.0.0.1).
#
# It installs what it needs first, so it works on a fresh Debian machine:
#   Debian packages (apt-get, as root or with sudo) and Rust components.
# Build output goes to $CARGO_TARGET_DIR (default ~/.cache/attestlog-target),
# outside the clone, so later runs reuse the compiled dependencies.
#
# Usage: ./scripts/test.sh            (CI: .ci/run calls exactly this)
set -euo pipefail

cd "$(dirname "$0")/.."

# Debian packages and why:
#   golang-go, golang-golang-x-mod-dev  the Go sumdb tlog/note cross-check
#   gnupg, sq                           signing with the real OpenPGP tools
#   protobuf-compiler                   protoc for the gRPC schema in proto/
#   clang, libclang-dev                 bindgen for RocksDB's C++ bindings
#   pkg-config                          -sys crates locating system libraries
# nettle-dev is not needed: sequoia uses its pure-Rust backend (README).
PACKAGES=(golang-go golang-golang-x-mod-dev gnupg sq protobuf-compiler clang libclang-dev pkg-config)

missing=()
for p in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
if ((${#missing[@]})); then
    echo "==> installing Debian packages: ${missing[*]}"
    SUDO=()
    if [ "$(id -u)" -ne 0 ]; then SUDO=(sudo -n); fi
    export DEBIAN_FRONTEND=noninteractive
    "${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=600 update -qq
    "${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}"
fi

if command -v rustup >/dev/null 2>&1; then
    rustup component add rustfmt clippy >/dev/null 2>&1 || true
fi

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/attestlog-target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
mkdir -p "$CARGO_TARGET_DIR"

echo "==> cargo fmt --check"
cargo fmt --all -- --check
(cd fuzz && cargo fmt --all -- --check)

echo "==> cargo clippy --all-targets -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "==> fuzz targets compile"
cargo check --manifest-path fuzz/Cargo.toml --bins --quiet

echo "==> cargo test (also builds the binaries the end-to-end tests start)"
# One package set and one target selection for clippy and test, so cargo
# resolves the same features and RocksDB's C++ is compiled only once.
cargo test --workspace --locked

echo "==> all checks passed"
