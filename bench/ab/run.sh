#!/usr/bin/env bash
# Interleaved A/B of two commits at production defaults: this host's speed drifts by 20-40% within an hour (bench/README
# fix 30), more than most single changes move the figures, so runs of A and B alternate and the table compares their
# medians side by side. Each commit is checked out in its own worktree under bench/target/ab/ and built there, so each
# runs with its own application.properties and routes. Every run's full output is kept as bench/target/ab/<A|B>-<n>.md.
# Usage, from the repository root (Maven flags as for bench/run.sh, e.g. BENCH_MVN_FLAGS=-o):
#   bench/ab/run.sh <commit A> <commit B> [runs per side, default 3] [bench/run.sh options...]
# Default bench options: --production --users 5000 --throughput-sessions 2000 --scenarios overhead,throughput
#   --warmup-max-seconds 60 (about 3.5 minutes a run). Nothing else may use the machine meanwhile.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
a=${1:?commit A}
b=${2:?commit B}
runs=${3:-3}
shift $(( $# < 3 ? $# : 3 ))
opts=("$@")
if [ ${#opts[@]} -eq 0 ]; then
    opts=(--production --users 5000 --throughput-sessions 2000 --scenarios overhead,throughput --warmup-max-seconds 60)
fi
out="$repo/bench/target/ab"
mkdir -p "$out"
for side in A B; do
    commit=$([ "$side" = A ] && echo "$a" || echo "$b")
    tree="$out/tree-$side"
    git -C "$repo" worktree remove --force "$tree" 2>/dev/null || rm -rf "$tree"
    git -C "$repo" worktree add -q --detach "$tree" "$commit"
    echo "building $side ($commit) ..." >&2
    (cd "$tree" && mvn -B -q ${BENCH_MVN_FLAGS:-} package -DskipTests)
done
for i in $(seq 1 "$runs"); do
    for side in A B; do
        echo "run $i, $side: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
        (cd "$out/tree-$side" && BENCH_SKIP_BUILD=1 bench/run.sh "${opts[@]}" >"$out/$side-$i.log" 2>&1) \
            || { echo "run $i of $side failed: $out/$side-$i.log" >&2; exit 1; }
        cp "$out/tree-$side/bench/target/results.md" "$out/$side-$i.md"
    done
done
java "$repo/bench/ab/AbSummary.java" "$out" "$a" "$b"
for side in A B; do
    git -C "$repo" worktree remove --force "$out/tree-$side"
done
