#!/usr/bin/env bash
# Brings up attestlog on this machine: one log and three witnesses on
# 127.0.0.1, with a 2-of-3 witness policy, RocksDB in a local folder, keys
# generated on first run and reused afterwards. Then it signs a sample
# attestation with GnuPG, submits it, and verifies it with `attestlog
# verify` against the policy. Running it again reuses everything.
#
#   ./deploy/local/up.sh        start (installs missing Debian packages,
#                               builds release binaries the first time)
#   ./deploy/local/down.sh      stop
#
# Settings (environment):
#   ATTESTLOG_HOME       state folder        (default: ./.local/quickstart)
#   ATTESTLOG_PORT_BASE  first port          (default: 7300; log gRPC =
#                        base, log HTTP = base+1, witnesses base+81..83)
#   ATTESTLOG_BIN_DIR    use binaries from here instead of building
#   ATTESTLOG_SKIP_DEPS  1 = do not install Debian packages
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
STATE="${ATTESTLOG_HOME:-$ROOT/.local/quickstart}"
BASE="${ATTESTLOG_PORT_BASE:-7300}"
ORIGIN="localhost/attestlog"
LOG_GRPC="127.0.0.1:$BASE"
LOG_HTTP="127.0.0.1:$((BASE + 1))"
mkdir -p "$STATE"
STATE="$(cd "$STATE" && pwd)"

say() { printf '==> %s\n' "$*"; }

if [ "${ATTESTLOG_SKIP_DEPS:-0}" != 1 ]; then
    "$ROOT/scripts/install-deps.sh"
fi

if [ -n "${ATTESTLOG_BIN_DIR:-}" ]; then
    BIN="$ATTESTLOG_BIN_DIR"
else
    export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/attestlog-target-release}"
    say "building release binaries (the first build compiles RocksDB: ~15 minutes on 2 cores)"
    (cd "$ROOT" && cargo build --release --workspace --bins --quiet)
    BIN="$CARGO_TARGET_DIR/release"
fi
for b in attestlog-server attestlog-witness attestlog; do
    [ -x "$BIN/$b" ] || { echo "missing $BIN/$b" >&2; exit 1; }
done

running() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

wait_ready() { # file, what, log
    for _ in $(seq 1 300); do
        [ -s "$1" ] && return 0
        sleep 0.1
    done
    echo "$2 did not start; its log:" >&2
    tail -n 30 "$3" >&2
    exit 1
}

# --- keys (first run only) -------------------------------------------------
if [ ! -f "$STATE/log.key" ]; then
    say "generating the log key"
    "$BIN/attestlog-server" keygen --name "$ORIGIN" --out "$STATE/log.key" > /dev/null
fi
LOG_VKEY="$("$BIN/attestlog-server" public-key "$STATE/log.key")"
for i in 1 2 3; do
    mkdir -p "$STATE/w$i"
    if [ ! -f "$STATE/w$i/key" ]; then
        "$BIN/attestlog-witness" keygen --name "w$i.localhost" --out "$STATE/w$i/key" > "$STATE/w$i/vkey"
    fi
done

# --- witness configs and the log's witness policy ---------------------------
{
    echo "# C2SP tlog-policy: this log, three witnesses, 2 of 3 needed."
    echo "log $LOG_VKEY http://$LOG_HTTP"
    for i in 1 2 3; do
        echo "witness w$i $(cat "$STATE/w$i/vkey") http://127.0.0.1:$((BASE + 80 + i))"
    done
    echo "group witnesses 2 w1 w2 w3"
    echo "quorum witnesses"
} > "$STATE/policy"
for i in 1 2 3; do
    peers=()
    for j in 1 2 3; do
        [ "$i" = "$j" ] || peers+=("\"http://127.0.0.1:$((BASE + 80 + j))\"")
    done
    cat > "$STATE/w$i/witness.toml" <<TOML
name = "w$i.localhost"
key_file = "$STATE/w$i/key"
data_dir = "$STATE/w$i/state"
listen = "127.0.0.1:$((BASE + 80 + i))"

[gossip]
peers = [$(IFS=,; echo "${peers[*]}")]
interval_ms = 1000
timeout_ms = 1000

[[log]]
origin = "$ORIGIN"
key = "$LOG_VKEY"
tiles_url = "http://$LOG_HTTP"
TOML
done

# --- start ------------------------------------------------------------------
for i in 1 2 3; do
    if running "$STATE/w$i/pid"; then
        say "witness w$i already running"
        continue
    fi
    rm -f "$STATE/w$i/ready"
    nohup "$BIN/attestlog-witness" serve --config "$STATE/w$i/witness.toml" \
        --ready-file "$STATE/w$i/ready" >> "$STATE/w$i/witness.log" 2>&1 < /dev/null &
    echo $! > "$STATE/w$i/pid"
    wait_ready "$STATE/w$i/ready" "witness w$i" "$STATE/w$i/witness.log"
done
if running "$STATE/log.pid"; then
    say "log already running"
else
    rm -f "$STATE/log.ready"
    nohup "$BIN/attestlog-server" serve --origin "$ORIGIN" --key-file "$STATE/log.key" \
        --data-dir "$STATE/log" --grpc-listen "$LOG_GRPC" --http-listen "$LOG_HTTP" \
        --witness-policy "$STATE/policy" --ready-file "$STATE/log.ready" \
        >> "$STATE/log.log" 2>&1 < /dev/null &
    echo $! > "$STATE/log.pid"
    wait_ready "$STATE/log.ready" "the log" "$STATE/log.log"
fi

# --- a sample attestation, signed with GnuPG ---------------------------------
export GNUPGHOME="$STATE/gnupg"
if [ ! -d "$GNUPGHOME" ]; then
    mkdir -m 700 -p "$GNUPGHOME"
    gpg --batch --pinentry-mode loopback --passphrase '' \
        --quick-gen-key "Sample Maintainer <sample@localhost>" ed25519 sign never 2> /dev/null
    gpg --batch --armor --export sample@localhost > "$STATE/sample-maintainer.asc"
fi
SAMPLE="$STATE/sample-$(date +%s%N).txt"
echo "sample artifact made at $(date -u +%FT%TZ)" > "$SAMPLE"
"$BIN/attestlog" submit --artifact "$SAMPLE" --name "$(basename "$SAMPLE")" \
    --source "git+https://example.invalid/sample.git" --revision v1 > "$SAMPLE.statement.json"
gpg --batch --pinentry-mode loopback --passphrase '' --yes \
    --detach-sign "$SAMPLE.statement.json" 2> /dev/null
say "submitting a gpg-signed sample attestation"
# --policy: the answer must be a checkpoint signed by this log and, as it
# waits for witnesses, cosigned by 2 of 3 of them, or `submit` fails.
"$BIN/attestlog" submit "$SAMPLE.statement.json" --signature "$SAMPLE.statement.json.sig" \
    --certificate "$STATE/sample-maintainer.asc" --log "http://$LOG_GRPC" --wait-for-witnesses \
    --policy "$STATE/policy"
say "verifying it: 1 trusted maintainer, log signature, 2 of 3 witness cosignatures"
verified=0
for _ in $(seq 1 30); do
    if "$BIN/attestlog" verify "$SAMPLE" --policy "$STATE/policy" \
        --keyring "$STATE/sample-maintainer.asc" --threshold 1 --log "http://$LOG_GRPC" \
        > "$STATE/verify.out" 2>&1; then
        verified=1
        break
    fi
    sleep 1 # witnesses cosign about once a second
done
cat "$STATE/verify.out"
[ "$verified" = 1 ] || { echo "verification failed" >&2; exit 1; }
say "verified"

cat <<EOF2

attestlog is running:
  log gRPC        http://$LOG_GRPC
  log tiles/HTTP  http://$LOG_HTTP   (/checkpoint, /tile/..., /metrics, /healthz)
  witnesses       http://127.0.0.1:$((BASE + 81)) $((BASE + 82)) $((BASE + 83))
  log key         $LOG_VKEY
  state           $STATE   (logs: *.log, policy: $STATE/policy)

Next:
  curl -s http://$LOG_HTTP/checkpoint
  $BIN/attestlog verify <file|sha256:HEX> --policy $STATE/policy --keyring <certs> --threshold 2 --log http://$LOG_GRPC
  $BIN/attestlog monitor --help
  $ROOT/deploy/local/down.sh
EOF2
