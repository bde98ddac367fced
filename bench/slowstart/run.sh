#!/usr/bin/env bash
# What a restarted instance's first minute looks like behind HAProxy, with and without `slowstart` (README's
# HAProxy configuration, deploy/haproxy/cobalt-chat.cfg). Two gateways (target/cobalt-chat.jar, the demo set-up of
# the peer harness: a fake OpenAI upstream, auth off, limits lifted, H2 each) behind HAProxy; C clients send
# streamed /v1 chats through it. Both are warmed under load first; then instance b is stopped (SIGTERM) and started
# again, and the chats it answers in its first seconds back are compared with a's (warm) in the same seconds.
# Once with `slowstart 60s` on the servers, once without. Needs haproxy and node. Usage, from the repository root:
#   bench/slowstart/run.sh [OUT]      (about 5 minutes)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
peers=$(cd "$repo/../shared/peers" && pwd)
out=$(mkdir -p "${1:-$repo/bench/target/slowstart}" && cd "${1:-$repo/bench/target/slowstart}" && pwd)
C=${C:-20}; WARM=${WARM:-60}; AFTER=${AFTER:-60}
work=$(mktemp -d); pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
FAKE_PORT=19399 FAKE_CHUNKS=20 node "$peers/bench/fake-openai.mjs" >"$work/fake.log" 2>&1 & pids+=($!)
start_gateway() { # name port mport
  mkdir -p "$work/db-$1"
  env COBALT_HOME="$repo" LLM_PROVIDER=sambanova SAMBANOVA_API_BASE=http://127.0.0.1:19399/v1 SAMBANOVA_API_KEY=bench \
      SAMBANOVA_MODEL=m CHAT_AUTH_DISABLED=true CHAT_DB_URL="jdbc:h2:file:$work/db-$1/chat" HTTP_PORT=$2 MANAGEMENT_PORT=$3 \
      CHAT_RATE_LIMIT_PER_MINUTE=100000000 CHAT_DAILY_MESSAGE_QUOTA=100000000 CHAT_MAX_CONCURRENT_STREAMS=100000 \
      java -jar "$repo/target/cobalt-chat.jar" >>"$work/gateway-$1.log" 2>&1 &
  echo $!
}
ready() { for i in $(seq 1 600); do curl -sf -o /dev/null "http://127.0.0.1:$1/observe/health/ready" && return 0; sleep 0.1; done; return 1; }
for mode in slowstart none; do
  opt=""; [ "$mode" = slowstart ] && opt="slowstart 60s"
  cat >"$work/haproxy-$mode.cfg" <<CFG
global
    maxconn 4096
defaults
    mode http
    timeout connect 2s
    timeout client 300s
    timeout server 300s
    timeout http-keep-alive 60s
frontend f
    bind 127.0.0.1:19380
    default_backend b
backend b
    option httpchk GET /observe/health/ready
    http-check expect status 200
    default-server inter 1s fall 1 rise 1 $opt
    http-response set-header X-Served-By %s
    retries 1
    option redispatch 1
    retry-on conn-failure empty-response 503
    server a 127.0.0.1:19381 check port 19391
    server b 127.0.0.1:19382 check port 19392
CFG
  a=$(start_gateway a 19381 19391); pids+=($a)
  b=$(start_gateway b 19382 19392); pids+=($b)
  ready 19391; ready 19392
  haproxy -f "$work/haproxy-$mode.cfg" >"$work/haproxy-$mode.log" 2>&1 & hp=$!; pids+=($hp)
  for i in $(seq 1 100); do curl -sf -o /dev/null http://127.0.0.1:19380/v1/models && break; sleep 0.1; done
  echo "$(date -u +%H:%M:%S) $mode: warming both for ${WARM}s (load $(cut -d' ' -f1-3 /proc/loadavg))" | tee -a "$out/times.txt"
  node "$repo/bench/slowstart/ttft-by-server.mjs" http://127.0.0.1:19380/v1/chat/completions "$C" "$WARM" >/dev/null
  node "$repo/bench/slowstart/ttft-by-server.mjs" http://127.0.0.1:19380/v1/chat/completions "$C" "$((AFTER + 15))" >"$out/$mode.jsonl" &
  load=$!
  sleep 5
  kill -TERM "$b"
  while kill -0 "$b" 2>/dev/null; do sleep 0.1; done
  echo "$(date -u +%H:%M:%S) $mode: b stopped, starting again" | tee -a "$out/times.txt"
  b=$(start_gateway b 19382 19392); pids+=($b)
  ready 19392
  echo "$(date -u +%H:%M:%S) $mode: b ready" | tee -a "$out/times.txt"
  wait "$load"
  kill "$hp" "$a" "$b" 2>/dev/null || true
  for p in "$hp" "$a" "$b"; do while kill -0 "$p" 2>/dev/null; do sleep 0.1; done; done
  rm -rf "$work/db-a" "$work/db-b"
done
node "$repo/bench/slowstart/summary.mjs" "$out/slowstart.jsonl" "$out/none.jsonl" | tee "$out/summary.txt"
