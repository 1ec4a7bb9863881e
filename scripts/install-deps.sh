#!/usr/bin/env bash
# Installs what building and testing attestlog needs on Debian, if missing:
# Debian packages (apt-get, as root or with sudo) and Rust components.
# Called by scripts/test.sh and deploy/local/up.sh; safe to run repeatedly.
set -euo pipefail

# Debian packages and why:
#   golang-go, golang-golang-x-mod-dev  the Go sumdb tlog/note cross-check
#   gnupg, sq                           signing with the real OpenPGP tools
#   protobuf-compiler                   protoc for the gRPC schema in proto/
#   clang, libclang-dev                 bindgen for RocksDB's C++ bindings
#   pkg-config                          -sys crates locating system libraries
#   systemd                             systemd-analyze verify of deploy/*.service
#   openssl, ca-certificates            a test CA for the gRPC-over-TLS test; the
#                                       system CAs the client trusts for https://
# nettle-dev is not needed: sequoia uses its pure-Rust backend (README).
PACKAGES=(golang-go golang-golang-x-mod-dev gnupg sq protobuf-compiler clang libclang-dev pkg-config systemd openssl ca-certificates)

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
    # The declared minimum Rust version (`rust-version` in Cargo.toml), which
    # scripts/test.sh checks the workspace with; `cargo check` needs only the
    # minimal profile (rustc, cargo, std).
    msrv=$(sed -n 's/^rust-version = "\(.*\)"$/\1/p' "$(dirname "$0")/../Cargo.toml")
    if ! rustup run "$msrv" rustc --version >/dev/null 2>&1; then
        echo "==> installing Rust $msrv (the minimum supported version)"
        rustup toolchain install "$msrv" --profile minimal
    fi
fi

