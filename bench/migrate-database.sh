#!/usr/bin/env bash
# Gives an existing PostgreSQL database the gateway's schema exactly as the gateway migrates it: starts
# target/cobalt-chat.jar on it (demo provider, auth off, on loopback), waits until it is ready, stops it. Used by the
# pgbench-based benches (ledger-options, chat-database). Usage, from anywhere:
#   bench/migrate-database.sh <database> [http port, default 18391] [management port, default 18392]
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
db=$1
http=${2:-18391}
management=${3:-18392}
work=$(mktemp -d)
gw=
trap '[ -n "$gw" ] && kill "$gw" 2>/dev/null; rm -rf "$work"' EXIT
(cd "$work" && exec env COBALT_HOME="$repo" LLM_PROVIDER=demo CHAT_AUTH_DISABLED=true HTTP_PORT="$http" \
    MANAGEMENT_PORT="$management" CHAT_DB_URL="jdbc:postgresql://127.0.0.1:5432/$db" CHAT_DB_USER=postgres \
    java -jar "$repo/target/cobalt-chat.jar" >"$work/gateway.log" 2>&1) & gw=$!
for _ in $(seq 1 120); do
    curl -sf -o /dev/null "http://127.0.0.1:$management/observe/health/ready" && break
    kill -0 "$gw" 2>/dev/null || { echo "the gateway stopped before it was ready:" >&2; cat "$work/gateway.log" >&2; exit 1; }
    sleep 0.5
done
curl -sf -o /dev/null "http://127.0.0.1:$management/observe/health/ready" || { echo "the gateway was not ready in 60 s" >&2; exit 1; }
kill "$gw"; wait "$gw" 2>/dev/null || true; gw=
