#!/usr/bin/env bash
# The production-defaults set behind bench/README.md's "Results at production defaults": three runs of each
# configuration back to back, H2 and PostgreSQL alternating, then the two peer harnesses three times each. About 50
# minutes; nothing else may use the machine meanwhile. Every run's output goes to OUT (default bench/target/set);
# the summary table is `java bench/ab/AbSummary.java` over it (see README). Usage, from the repository root:
#   bench/set.sh [OUT]          # BENCH_MVN_FLAGS=-o for an offline build, BENCH_SKIP_BUILD=1 to reuse the jar
#   SET_EXTRA="/path/to/other/checkout" bench/set.sh   # also two H2 runs of another built checkout (same bench)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
out=$(mkdir -p "${1:-$repo/bench/target/set}" && cd "${1:-$repo/bench/target/set}" && pwd)
cd "$repo"
if [ "${BENCH_SKIP_BUILD:-}" != "1" ] || [ ! -f target/cobalt-chat.jar ]; then
    mvn -B -q ${BENCH_MVN_FLAGS:-} clean package -DskipTests
fi
(cd bench && mvn -B -q ${BENCH_MVN_FLAGS:-} package)
h2=(--production --users 5000 --throughput-sessions 2000 --scenarios overhead,throughput --warmup-max-seconds 60)
pg=(--production --database postgres --scenarios overhead,throughput --warmup-max-seconds 60)
single=(--production --database postgres --scenarios single-user --warmup-max-seconds 30)
run() { # name, checkout, options...
    local name=$1 tree=$2; shift 2
    echo "$(date -u +%H:%M:%S) $name (load $(cut -d' ' -f1-3 /proc/loadavg))" | tee -a "$out/times.txt"
    java -cp "$repo/bench/target/cobalt-chat-bench.jar" bench.GatewayBench --repo "$tree" \
        --out "$out/work-$name" "$@" >"$out/$name.log" 2>&1 || { echo "$name failed: $out/$name.log" >&2; exit 1; }
    cp "$out/work-$name/results.md" "$out/$name.md"
    rm -rf "$out/work-$name"
}
for i in 1 2 3; do
    run "h2-$i" "$repo" "${h2[@]}"
    if [ -n "${SET_EXTRA:-}" ] && [ "$i" -le 2 ]; then
        run "extra-h2-$i" "$SET_EXTRA" "${h2[@]}"
    fi
    run "pg-$i" "$repo" "${pg[@]}"
    run "single-$i" "$repo" "${single[@]}"
done
# the harnesses stop their processes without waiting for them: the next run waits until their ports are free (a
# gateway still shutting down on 18080 once made the next run's client meet a closed port)
ports_free() {
    local i
    for i in $(seq 1 60); do
        ss -ltn | grep -qE ':(18080|18787|18876|19099) ' || return 0
        sleep 1
    done
}
harness() { # name, script, WARMUP
    ports_free
    echo "$(date -u +%H:%M:%S) $1" | tee -a "$out/times.txt"
    WARMUP=$3 bash "$2" >"$out/$1.txt" 2>&1 || echo "$(date -u +%H:%M:%S) $1 failed" | tee -a "$out/times.txt"
}
peers=$(cd "$repo/../shared/peers" 2>/dev/null && pwd || true)
if [ -n "$peers" ]; then
    for i in 1 2 3; do harness "portkey-$i" "$peers/compare.sh" 20; done
    for i in 1 2 3; do harness "portkey-cold-$i" "$peers/compare.sh" 0; done
    for i in 1 2 3; do harness "compare-pg-$i" "$peers/compare-pg.sh" 20; done
fi
echo "$(date -u +%H:%M:%S) done" | tee -a "$out/times.txt"
