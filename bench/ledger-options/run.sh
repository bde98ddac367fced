#!/usr/bin/env bash
# Measures the options for the shared per-user limits (issue 20 item 5) in isolation, one user and many, 50 clients:
# PostgreSQL's admission function with every commit waiting for the disk (V15) and without (V16), and the same
# admission as a Redis script. Needs PostgreSQL on 127.0.0.1:5432 (trust), Redis on 6379, pgbench and
# redis-benchmark, and target/cobalt-chat.jar (to create the schema). Usage, from the repository root:
#   bench/ledger-options/run.sh [seconds per run, default 15]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
secs=${1:-15}
db=cobalt_ledger_options_$$
cleanup() {
    psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
    redis-cli -n 0 DEL cobalt:bench:win cobalt:bench:day cobalt:bench:streams >/dev/null 2>&1 || true
}
trap cleanup EXIT
psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $db"
"$here/../migrate-database.sh" "$db" 18391 18392
pg() {   # name, script
    local tps
    tps=$(pgbench -h 127.0.0.1 -U postgres -n -c 50 -j 2 -T "$secs" -f "$here/$2" "$db" 2>&1 | sed -n 's/^tps = \([0-9.]*\).*/\1/p')
    printf '| %s | %.0f |\n' "$1" "$tps"
}
echo "| option, 50 clients, ${secs} s | admissions (+ releases) per second |"
echo "|---|---|"
pg "PostgreSQL, one user, every commit waits for the disk (V15)" admit-one-user-sync.sql
pg "PostgreSQL, one user, commits without the wait (V16, the gateway's)" admit-one-user.sql
pg "PostgreSQL, 2,000 users, commits without the wait (V16)" admit-many-users.sql
sha=$(redis-cli SCRIPT LOAD "$(cat "$here/redis-admit.lua")")
rps=$(redis-benchmark -q -c 50 -n $((secs * 20000)) EVALSHA "$sha" 3 cobalt:bench:win cobalt:bench:day cobalt:bench:streams \
      100000000 100000000 100000000 2>/dev/null | tr '\r' '\n' | sed -n 's/.*: \([0-9.]*\) requests per second.*/\1/p' | tail -1)
printf '| %s | %.0f |\n' "Redis script, one user (admission only; the release would be one more command)" "$rps"
echo "(load average at the end: $(cut -d' ' -f1-3 /proc/loadavg))"
