#!/usr/bin/env bash
# The peer harness (../shared/peers/compare.sh) measures time to first token with the targets taken in turn, one
# request each: direct, Portkey, this gateway's /v1, this gateway's session API. Portkey's request takes ~28 ms of
# Node's CPU, and the request right after it is /v1's. This runs the harness's own load generator (compare.mjs) on
# the same set-up (its fake upstream, Portkey, this gateway with the harness's settings) twice per round: once in the
# harness's order, once with the gateway's two paths swapped, so that the session API follows Portkey. If /v1's
# sequential figures move with its place in the order, the harness's /v1 TTFT carries Portkey's tail.
# Usage, from the repository root, with target/cobalt-chat.jar built: bench/peer-order/run.sh [ROUNDS] [OUT]
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
peers=$(cd "$repo/../shared/peers" && pwd)
rounds=${1:-3}
out=$(mkdir -p "${2:-$repo/bench/target/peer-order}" && cd "${2:-$repo/bench/target/peer-order}" && pwd)
cd "$repo"
work=$(mktemp -d); pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
cache=${TMPDIR:-/tmp}/cobalt-peers
if [ ! -d "$cache/node_modules/@portkey-ai/gateway" ]; then
  mkdir -p "$cache" && cp "$peers/package.json" "$cache/" && (cd "$cache" && npm install --silent >/dev/null 2>&1)
fi
FAKE_PORT=19099 FAKE_CHUNKS=${CHUNKS:-20} node "$peers/bench/fake-openai.mjs" >"$work/fake.log" 2>&1 & pids+=($!)
node "$cache/node_modules/@portkey-ai/gateway/build/start-server.js" --port=18787 --headless >"$work/portkey.log" 2>&1 & pids+=($!)
mkdir -p "$work/db"
env LLM_PROVIDER=sambanova SAMBANOVA_API_BASE=http://127.0.0.1:19099/v1 SAMBANOVA_API_KEY=bench SAMBANOVA_MODEL=m \
    CHAT_AUTH_DISABLED=true CHAT_DB_URL="jdbc:h2:file:$work/db/chat" HTTP_PORT=18080 MANAGEMENT_PORT=18876 \
    CHAT_RATE_LIMIT_PER_MINUTE=100000000 CHAT_DAILY_MESSAGE_QUOTA=100000000 CHAT_MAX_CONCURRENT_STREAMS=100000 \
    java -jar target/cobalt-chat.jar >"$work/gateway.log" 2>&1 & pids+=($!)
for i in $(seq 1 120); do curl -s -o /dev/null http://127.0.0.1:18080/ && curl -s -o /dev/null http://127.0.0.1:18787/ && break; sleep 0.5; done
direct='{"name":"direct","kind":"openai","url":"http://127.0.0.1:19099/v1/chat/completions"}'
portkey='{"name":"portkey","kind":"openai","url":"http://127.0.0.1:18787/v1/chat/completions","headers":{"x-portkey-provider":"openai","x-portkey-custom-host":"http://127.0.0.1:19099/v1","authorization":"Bearer x"}}'
v1='{"name":"cobalt-openai","kind":"openai","url":"http://127.0.0.1:18080/v1/chat/completions"}'
session='{"name":"cobalt-session","kind":"cobalt","url":"http://127.0.0.1:18080"}'
echo "[$direct,$portkey,$v1,$session]" >"$work/harness-order.json"
echo "[$direct,$portkey,$session,$v1]" >"$work/swapped.json"
for r in $(seq 1 "$rounds"); do
  for order in harness-order swapped; do
    echo "$(date -u +%H:%M:%S) round $r, $order (load $(cut -d' ' -f1-3 /proc/loadavg))" | tee -a "$out/times.txt"
    WARMUP=${WARMUP:-20} node "$peers/bench/compare.mjs" "$work/$order.json" >"$out/$order-$r.txt" 2>&1
    head -5 "$out/$order-$r.txt"
  done
done
