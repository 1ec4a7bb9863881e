#!/usr/bin/env bash
# Installs what building and testing attestlog needs on Debian, if missing:
# Debian packages (apt-get, as root or with sudo) and Rust components.
# Called by scripts/test.sh (with --tests: also what only the tests need)
# and deploy/local/up.sh; safe to run repeatedly.
set -euo pipefail

FOR_TESTS=0
for arg in "$@"; do
    case "$arg" in
        --tests) FOR_TESTS=1 ;;
        *) echo "install-deps.sh: unknown argument $arg (only --tests)" >&2; exit 2 ;;
    esac
done

# Debian packages and why:
#   golang-go, golang-golang-x-mod-dev  the Go sumdb tlog/note cross-check
#   gnupg, sq                           signing with the real OpenPGP tools
#   libsqlite3-dev                      sequoia-wot's certificate store links
#                                       the system SQLite (client feature `wot`)
#   sq-wot                              the independent web-of-trust verdicts
#                                       the client's are checked against
#   openssh-client                      ssh-keygen: SSH signatures and
#                                       allowed_signers checked against OpenSSH
#   protobuf-compiler                   protoc for the gRPC schema in proto/
#   clang, libclang-dev                 bindgen for RocksDB's C++ bindings
#   pkg-config                          -sys crates locating system libraries
#   systemd                             systemd-analyze verify of deploy/*.service
#   openssl, ca-certificates            a test CA for the gRPC-over-TLS test; the
#                                       system CAs the client trusts for https://
# nettle-dev is not needed: sequoia uses its pure-Rust backend (README).
#
# Built with cargo:
#   garage 2.5.0 (the S3-compatible object store), into
#   ~/.cache/attestlog-garage/bin   the end-to-end tests publish the log to a
#                                   real 3-node Garage cluster on 127.0.0.1
#                                   (tests/src/garage.rs); Debian has no package
PACKAGES=(golang-go golang-golang-x-mod-dev gnupg sq sq-wot openssh-client libsqlite3-dev protobuf-compiler clang libclang-dev pkg-config systemd openssl ca-certificates)

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

# Garage (with --tests only: running the log needs no object store):
# built once, in release mode (10.5 min on 2 cores; the build
# directory, 0.8 GB, is deleted afterwards; the binary is 56 MB). ATTESTLOG_GARAGE overrides the binary
# the tests use, but this installs the one they look for by default.
GARAGE_VERSION=2.5.0
GARAGE_ROOT="$HOME/.cache/attestlog-garage"
GARAGE="$GARAGE_ROOT/bin/garage"
# `garage --version` prints e.g. "garage cargo:2.5.0 [features: ...]".
garage_version=$("$GARAGE" --version 2>/dev/null || true)
if ((FOR_TESTS)) && ! [[ "$garage_version" =~ (^|[^0-9.])${GARAGE_VERSION//./\\.}([^0-9.]|$) ]]; then
    if [ -x "$GARAGE" ]; then
        why="$GARAGE is not version $GARAGE_VERSION"
    else
        why="$GARAGE is missing"
    fi
    echo "==> building Garage $GARAGE_VERSION for the S3 end-to-end tests ($why); the first time this takes a long time (about 10 min on 2 cores)"
    cargo install --locked garage --version "$GARAGE_VERSION" \
        --root "$GARAGE_ROOT" --target-dir "$HOME/.cache/attestlog-garage-build"
    rm -rf "$HOME/.cache/attestlog-garage-build"
fi
