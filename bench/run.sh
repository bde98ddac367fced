#!/usr/bin/env bash
# Gateway benchmark. Builds the gateway and this module, starts a fake OpenAI-compatible upstream and the gateway
# (java -jar target/cobalt-chat.jar, demo auth, H2 file DB in a temp folder) on 127.0.0.1, runs the scenarios
# (overhead, throughput, session history, open-stream capacity) through the gateway and directly against the fake,
# prints the tables and writes bench/target/results.md, results.json and scaling.png. Everything it starts is
# stopped when it exits. See bench/README.md.
#
#   bench/run.sh                                  # the full run, about 10 minutes plus the builds
#   bench/run.sh --smoke                          # tiny numbers, under a minute: does everything still run?
#   bench/run.sh --capacity-levels 1000,5000      # any GatewayBench option, see README
#   bench/run.sh --production                     # auth on (a JWT per request, 2000 users), default limits, 20 messages of history
#   bench/run.sh --production --database postgres # the same on a fresh PostgreSQL database with shared limits (dropped at the end)
#   bench/run.sh --production --database postgres --scenarios single-user   # one service account, limits raised (README)
#   BENCH_MVN_FLAGS=-o bench/run.sh               # extra Maven flags (e.g. offline); BENCH_SKIP_BUILD=1 reuses the jar
#   BENCH_JAVA_OPTS=-Xlog:gc:file=bench-gc.log bench/run.sh   # JVM options of the bench's own JVM (client + fake)
#   BENCH_H2_SETTINGS=";AUTO_COMPACT_FILL_RATE=50" bench/run.sh # H2 settings appended to the gateway's database URL
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$BENCH_DIR")
MVN_FLAGS=${BENCH_MVN_FLAGS:-}
PID_FILE="$BENCH_DIR/target/gateway.pid"
BENCH_PID=

cleanup() {
    local code=$?
    trap - EXIT INT TERM
    if [ -n "$BENCH_PID" ] && kill -0 "$BENCH_PID" 2>/dev/null; then
        kill "$BENCH_PID" 2>/dev/null || true           # its shutdown hook stops the gateway
        for _ in $(seq 1 60); do kill -0 "$BENCH_PID" 2>/dev/null || break; sleep 0.5; done
        kill -9 "$BENCH_PID" 2>/dev/null || true
    fi
    if [ -f "$PID_FILE" ]; then
        local gw
        gw=$(cat "$PID_FILE")
        # only our gateway: the pid must still be a java running the gateway jar
        if [ -n "$gw" ] && [ -r "/proc/$gw/cmdline" ] && tr '\0' ' ' < "/proc/$gw/cmdline" | grep -qE 'cobalt-chat.jar|gateway-under-bench.jar'; then
            kill "$gw" 2>/dev/null || true
            for _ in $(seq 1 50); do kill -0 "$gw" 2>/dev/null || break; sleep 0.5; done
            kill -9 "$gw" 2>/dev/null || true
        fi
        rm -f "$PID_FILE"
    fi
    exit "$code"
}
trap cleanup EXIT INT TERM

if [ "${BENCH_SKIP_BUILD:-}" != "1" ] || [ ! -f "$REPO/target/cobalt-chat.jar" ]; then
    echo "building the gateway (mvn clean package -DskipTests) ..."
    (cd "$REPO" && mvn -B -q $MVN_FLAGS clean package -DskipTests)
fi
echo "building the bench ..."
(cd "$BENCH_DIR" && mvn -B -q $MVN_FLAGS package)
mkdir -p "$BENCH_DIR/target"

java ${BENCH_JAVA_OPTS:-} -cp "$BENCH_DIR/target/cobalt-chat-bench.jar" bench.GatewayBench \
    --repo "$REPO" --pid-file "$PID_FILE" "$@" &
BENCH_PID=$!
set +e
wait "$BENCH_PID"
code=$?
set -e
BENCH_PID=
exit "$code"
