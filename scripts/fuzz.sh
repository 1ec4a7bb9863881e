#!/usr/bin/env bash
# Builds every fuzz target of fuzz/ with cargo-fuzz (libFuzzer) and runs
# each for SECONDS (default 20), one after the other, from the committed
# seeds (fuzz/corpus/<target>/) plus the corpus grown by earlier runs
# ($HOME/.cache/attestlog-fuzz-corpus/<target>/, where new inputs go).
# Prints, per target, the executions and seconds run; exits non-zero if
# any target crashed, hung or ran out of memory (the input that did it is
# under fuzz/artifacts/<target>/; replay it with
# `$FUZZ_TARGET_DIR/x86_64-unknown-linux-gnu/release/<target> <file>`).
#
# Build: `cargo fuzz build -O -a -s none`, in its own target directory
# (never the main one), i.e. optimized, with debug assertions (overflow
# checks on the parsers' arithmetic), without a sanitizer: every attestlog
# crate forbids unsafe code (Cargo.toml's [workspace.lints]), and without
# -Zsanitizer the build needs no nightly feature, so it works on stable when
# nightly is not installed.
#
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
#   FUZZ_TARGET_DIR   build directory (default ~/.cache/attestlog-fuzz-target)
#   FUZZ_CORPUS_CACHE grown corpora (default ~/.cache/attestlog-fuzz-corpus)
#   FUZZ_TOOLCHAIN    rustup toolchain (default nightly if installed, else stable)
#   FUZZ_NICE         niceness of build and fuzzers (default 19)
set -euo pipefail

cd "$(dirname "$0")/.."
root="$PWD"

seconds="${1:-20}"
shift || true
case "$seconds" in
'' | *[!0-9]*)
    echo "usage: $0 [SECONDS] [TARGET...]" >&2
    exit 2
    ;;
esac

CARGO_FUZZ_VERSION=0.13.2
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-$HOME/.cache/attestlog-fuzz-target}"
cache="${FUZZ_CORPUS_CACHE:-$HOME/.cache/attestlog-fuzz-corpus}"
nice=(nice -n "${FUZZ_NICE:-19}")
mkdir -p "$CARGO_TARGET_DIR" "$cache"

if [ -z "${FUZZ_TOOLCHAIN:-}" ]; then
    if rustup run nightly rustc --version >/dev/null 2>&1; then
        FUZZ_TOOLCHAIN=nightly
    else
        FUZZ_TOOLCHAIN=stable
    fi
fi

if [ "$(cargo fuzz --version 2>/dev/null)" != "cargo-fuzz $CARGO_FUZZ_VERSION" ]; then
    echo "==> installing cargo-fuzz $CARGO_FUZZ_VERSION (crates.io)"
    # Its own temporary build directory, not the fuzz targets'.
    env -u CARGO_TARGET_DIR "${nice[@]}" cargo install cargo-fuzz \
        --version "$CARGO_FUZZ_VERSION" --locked --quiet </dev/null
fi

if [ "$#" -eq 0 ]; then
    mapfile -t targets < <(cargo fuzz list --fuzz-dir fuzz </dev/null)
else
    targets=("$@")
fi

echo "==> cargo +$FUZZ_TOOLCHAIN fuzz build -O -a -s none (${#targets[@]} targets)"
build_start=$(date +%s)
"${nice[@]}" cargo "+$FUZZ_TOOLCHAIN" fuzz build --fuzz-dir fuzz -O -a -s none </dev/null
echo "    built in $(($(date +%s) - build_start)) s"
bin_dir="$CARGO_TARGET_DIR/x86_64-unknown-linux-gnu/release"

failed=()
total_execs=0
printf '%-24s %12s %8s %8s  %s\n' target executions seconds corpus result
for t in "${targets[@]}"; do
    mkdir -p "$cache/$t" "fuzz/artifacts/$t"
    seeds="fuzz/corpus/$t"
    [ -d "$seeds" ] || seeds=""
    log="$(mktemp)"
    start=$(date +%s)
    status=0
    # The first corpus directory receives new inputs; the seeds stay as
    # committed. -timeout: an input taking over 30 s (wall clock, so with
    # room for a niced process on a busy machine) counts as a hang.
    "${nice[@]}" "$bin_dir/$t" "$cache/$t" ${seeds:+"$seeds"} \
        -max_total_time="$seconds" -timeout=30 -print_final_stats=1 \
        -artifact_prefix="$root/fuzz/artifacts/$t/" </dev/null >"$log" 2>&1 || status=$?
    elapsed=$(($(date +%s) - start))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    corpus=$(find "$cache/$t" -type f | wc -l)
    if [ "$status" -eq 0 ]; then
        result=ok
    else
        result="FAILED (exit $status)"
        failed+=("$t")
    fi
    printf '%-24s %12s %8s %8s  %s\n' "$t" "${execs:-?}" "$elapsed" "$corpus" "$result"
    if [ "$status" -ne 0 ]; then
        grep -E '^(==[0-9]+==|SUMMARY|thread|panicked|artifact_prefix|Test unit written|ERROR)' "$log" |
            head -n 20 | sed 's/^/    /' || true
        sed -n '/panicked at/,+3p' "$log" | head -n 8 | sed 's/^/    /' || true
    fi
    total_execs=$((total_execs + ${execs:-0}))
    rm -f "$log"
done

echo "==> $total_execs executions in total"
if ((${#failed[@]})); then
    echo "==> fuzz targets failed: ${failed[*]} (inputs under fuzz/artifacts/)" >&2
    exit 1
fi
