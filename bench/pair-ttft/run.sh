#!/usr/bin/env bash
# Paired sequential session-API time to first token of two commits, side by side on one machine: both gateways run at
# once (production defaults but a raised per-user minute limit, auth on with a JWT per user, 20 stored messages per
# session) against one fake provider, and chats alternate between them, so that this host's drift (20-40% within an
# hour) hits both alike - a difference of a few tenths of a millisecond shows where interleaved whole runs cannot.
# Each commit is built in its own worktree under bench/target/pair and runs there (its own routes and properties).
# Usage, from the repository root (needs Node 18+; Maven flags as for bench/run.sh, e.g. BENCH_MVN_FLAGS=-o):
#   bench/pair-ttft/run.sh <commit A> <commit B> [postgres|h2, default postgres] [warm-up chats 1500] [measured 4000]
# postgres: one fresh database on 127.0.0.1:5432 (user postgres, trust auth) for both, so the limits are shared as in
# a scale-out - and so the newer commit's migrations apply to both (a commit whose migration changes what the older
# one calls, a function's result, say, is then measured against the older code on the newer schema); h2: an H2 file
# each. About two minutes a run. Nothing else may use the machine meanwhile.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
a=${1:?commit A}; b=${2:?commit B}; db=${3:-postgres}; warm=${4:-1500}; n=${5:-4000}
out="$repo/bench/target/pair"; mkdir -p "$out"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
for side in A B; do
    commit=$([ "$side" = A ] && echo "$a" || echo "$b")
    git -C "$repo" worktree remove --force "$out/tree-$side" 2>/dev/null || rm -rf "$out/tree-$side"
    git -C "$repo" worktree add -q --detach "$out/tree-$side" "$commit"
    (cd "$out/tree-$side" && mvn -B -q ${BENCH_MVN_FLAGS:-} package -DskipTests)
done
if [ "$db" = postgres ]; then
    psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS cobalt_pair" -c "CREATE DATABASE cobalt_pair"
fi
node "$repo/bench/pair-ttft/pair.mjs" --fake 19099 & pids+=($!)
secret=$(head -c 48 /dev/urandom | base64 -w0)
port=18100
for side in A B; do
    if [ "$db" = postgres ]; then url=jdbc:postgresql://127.0.0.1:5432/cobalt_pair; else rm -rf "$out/h2-$side"; url="jdbc:h2:file:$out/h2-$side/chat"; fi
    (cd "$out/tree-$side" && exec env LLM_PROVIDER=sambanova SAMBANOVA_API_BASE=http://127.0.0.1:19099/v1 \
        SAMBANOVA_API_KEY=pair SAMBANOVA_MODEL=m CHAT_JWT_SECRET="$secret" CHAT_DB_URL="$url" CHAT_DB_USER=postgres \
        HTTP_PORT=$port MANAGEMENT_PORT=$((port + 1)) CHAT_RATE_LIMIT_PER_MINUTE=100000 \
        java -jar target/cobalt-chat.jar >"$out/gateway-$side.log" 2>&1) & pids+=($!)
    port=$((port + 10))
done
for p in 18101 18111; do
    for i in $(seq 1 240); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$p/observe/health/ready")" = 200 ] && break
        sleep 0.5
    done
done
echo "A = $a, B = $b, $db, load $(cut -d' ' -f1-3 /proc/loadavg)"
node "$repo/bench/pair-ttft/pair.mjs" 18100 18110 "$secret" 200 "$warm" "$n"
cleanup; pids=()
for side in A B; do git -C "$repo" worktree remove --force "$out/tree-$side"; done
[ "$db" = postgres ] && psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS cobalt_pair" || true
