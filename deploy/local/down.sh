#!/usr/bin/env bash
# Stops what deploy/local/up.sh started (SIGTERM: the log finishes its
# batch in flight). The state folder is kept; up.sh resumes from it.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
STATE="${ATTESTLOG_HOME:-$ROOT/.local/quickstart}"
for pidfile in "$STATE/log.pid" "$STATE"/w*/pid; do
    [ -f "$pidfile" ] || continue
    pid="$(cat "$pidfile")"
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid"
        for _ in $(seq 1 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        echo "stopped $(basename "$(dirname "$pidfile")")/$(basename "$pidfile") ($pid)"
    fi
    rm -f "$pidfile"
done
