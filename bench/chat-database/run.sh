#!/usr/bin/env bash
# What one session chat costs PostgreSQL, measured alone (issue 20 item 5: ">= 1,500 session chats/s on the shared
# ledger"): pgbench replays a chat's five statements as the gateway sends them (session-chat.sql) against 2,000
# sessions of 20 messages, and the same with each schema or statement option, at each number of clients. The options
# alternate, each run on a fresh copy of the prefilled database warmed for 5 s first (a new database's first seconds
# run at half speed) and vacuumed, so no run inherits another's dead rows (this server's autovacuum may be off).
# Needs PostgreSQL on 127.0.0.1:5432 (trust), pgbench and target/cobalt-chat.jar (bench/migrate-database.sh creates
# the schema with it).
# Usage, from the repository root:
#   bench/chat-database/run.sh [seconds per run, default 15] [rounds, default 3] [clients, default "6 20"] [options]
# options: the numbers of the rows below to run (1-based, e.g. "5 6"); all by default
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
secs=${1:-15}
rounds=${2:-3}
clients=${3:-6 20}
only=${4:-}
template=cobalt_chat_db_template_$$
db=cobalt_chat_db_$$
psql_() { psql -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1 -q "$@"; }
cleanup() {
    psql_ -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
    psql_ -c "DROP DATABASE IF EXISTS $template WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT
psql_ -c "CREATE DATABASE $template"
"$here/../migrate-database.sh" "$template" 18393 18394
psql_ -d "$template" -f "$here/prefill.sql"

# name | script | schema change applied to the fresh copy before the run (SQL, may be empty)
options=(
  "as the gateway does it|session-chat.sql|"
  "chat_message's lease index only on leased rows|session-chat.sql|DROP INDEX ix_chat_message_lease; CREATE INDEX ix_chat_message_lease ON chat_message (lease_until) WHERE lease_until IS NOT NULL"
  "one touch of the session per chat (the answer's dropped)|session-chat-one-touch.sql|"
  "both|session-chat-one-touch.sql|DROP INDEX ix_chat_message_lease; CREATE INDEX ix_chat_message_lease ON chat_message (lease_until) WHERE lease_until IS NOT NULL"
  "a copy of the session: read apart from the admission (before fix 42)|session-chat-read-apart.sql|"
  "a copy of the session: the admission reads it (fix 42)|session-chat-admission-reads-session.sql|"
)
if [ -n "$only" ]; then
    chosen=()
    for n in $only; do chosen+=("${options[$((n - 1))]}"); done
    options=("${chosen[@]}")
fi
declare -A tps
for round in $(seq 1 "$rounds"); do
    for c in $clients; do
        for o in "${options[@]}"; do
            IFS='|' read -r name script change <<<"$o"
            psql_ -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db TEMPLATE $template"
            [ -n "$change" ] && psql_ -d "$db" -c "$change"
            pgbench -h 127.0.0.1 -U postgres -n -M prepared -c "$c" -j 2 -T 5 -f "$here/$script" "$db" >/dev/null 2>&1
            psql_ -d "$db" -c "VACUUM" -c "CHECKPOINT"
            t=$(pgbench -h 127.0.0.1 -U postgres -n -M prepared -c "$c" -j 2 -T "$secs" -f "$here/$script" "$db" 2>&1 \
                | sed -n 's/^tps = \([0-9.]*\).*/\1/p')
            tps[$c|$name]="${tps[$c|$name]:-} $(printf '%.0f' "$t")"
            echo "round $round, $c clients: $name: $t" >&2
        done
    done
done
echo "| option ($secs s per run, $rounds rounds alternating) | clients | session chats/s per round | median |"
echo "|---|---|---|---|"
for c in $clients; do
    for o in "${options[@]}"; do
        IFS='|' read -r name _ _ <<<"$o"
        med=$(tr ' ' '\n' <<<"${tps[$c|$name]}" | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
        echo "| $name | $c |${tps[$c|$name]} | $med |"
    done
done
echo "(load average at the end: $(cut -d' ' -f1-3 /proc/loadavg))"
