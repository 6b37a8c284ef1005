#!/usr/bin/env bash
# What one chain costs Redis, counted in instructions: a figure that does not move with the machine's noise,
# for comparing two versions of the bus or the receivers on a shared, busy machine.
#
#   scripts/redis-cost.sh BIN_DIR [GOALS]
#
# Starts redis-server (AOF everysec, as the bench) under valgrind's callgrind, the six services of BIN_DIR
# beside it on free loopback ports, runs `goalctl bench chains` with GOALS goals (default 1000) at 64 in
# flight, stops everything, and prints Redis's instructions per chain, in total and for the main parts of
# its work (scripts, stream reads, the AOF, parsing requests). The run's seeding and checks are included,
# so compare figures of runs with the same GOALS. Redis runs about 50 times slower under callgrind: the
# services wait for it, and the chain rate printed means nothing here. valgrind is installed when missing.
# REDIS_COST_TRACE_SAMPLE sets the share of chains traced (default 0.01, the docker settings).
# shellcheck disable=SC2034  # pids is read by gs_stop_all, through a nameref
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
GS_NAME=redis-cost
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

scripts/deps.sh --also valgrind:valgrind
gs_require redis-server redis-cli curl valgrind callgrind_annotate
bin=$(gs_bin_dir "${1:-}")
goals=${2:-1000}

work=$(mktemp -d "${TMPDIR:-/tmp}/goal-signals-redis-cost.XXXXXX")
declare -A pids=()
redis_pid=""
cleanup() {
    local status=$?
    trap '' INT TERM PIPE
    set +e
    gs_stop_all pids 15
    [[ -z $redis_pid ]] || gs_stop_processes 60 "redis-server=$redis_pid"
    if ((status == 0)); then rm -rf "$work"; else echo "redis-cost: failed (status $status); logs kept in $work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

redis_port=$(gs_free_port)
valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.out" \
    redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly yes --appendfsync everysec --rdbcompression no \
    --dir "$work" --loglevel warning --daemonize no </dev/null >"$work/redis.log" 2>&1 &
redis_pid=$!
gs_wait_until 300 gs_pong "$redis_port" || gs_die "redis-server did not start under valgrind on port $redis_port"

# The docker settings' trace sample (1 % of chains) unless REDIS_COST_TRACE_SAMPLE says otherwise.
export CONFIG_FILE=$root/Config/local.json REDIS_URL=redis://127.0.0.1:$redis_port/0 TRACE_SAMPLE=${REDIS_COST_TRACE_SAMPLE:-0.01}
http_port=$(gs_free_port)
export HTTP_HOST=127.0.0.1 HTTP_PORT=$http_port
export PUSHER_APP_KEY=bench-key PUSHER_APP_SECRET=bench-secret ALLOW_UNSIGNED_WEBHOOKS=false
unset METRICS_PORT METRICS_HOST
for svc in "${GS_SERVICES[@]}"; do
    "$bin/$svc" </dev/null >"$work/$svc.log" 2>&1 &
    pids[$svc]=$!
done
gs_wait_until 300 curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$http_port/ready" 2>/dev/null \
    || gs_die "the gateway did not become ready"

echo "redis-cost: $goals chains, Redis under callgrind (about 50× slower), binaries from $bin"
"$bin/goalctl" bench chains --goals "$goals" --concurrency 64 --connections 2 | grep -E '^(result|redis commands)'

# Stopping Redis makes callgrind write its counts.
gs_stop_all pids 15
pids=()
redis-cli -p "$redis_port" shutdown nosave >/dev/null 2>&1 || true
gs_stop_processes 60 "redis-server=$redis_pid"
redis_pid=""

callgrind_annotate --inclusive=yes "$work/callgrind.out" 2>/dev/null | python3 -c '
import re, sys
goals = int(sys.argv[1])
total, parts = None, {}
names = {
    "evalGenericCommand": "scripts (EVALSHA, with the commands it calls)",
    "xreadCommand": "stream reads (XREADGROUP)",
    "feedAppendOnlyFile": "AOF (formatting what is written)",
    "processMultibulkBuffer": "parsing requests",
    "hgetallCommand": "hash reads (HGETALL)",
}
for line in sys.stdin:
    match = re.match(r"\s*([\d,]+) \([\s\d.]+%\)\s+(.*)$", line)
    if not match:
        continue
    count, where = int(match.group(1).replace(",", "")), match.group(2)
    if "PROGRAM TOTALS" in where:
        total = count
    for symbol in names:
        if re.search(r":" + symbol + r" \[", where) and symbol not in parts:
            parts[symbol] = count
if not total:
    sys.exit("redis-cost: callgrind wrote no totals")
print(f"redis instructions per chain  {total / goals:12,.0f}")
for symbol, label in names.items():
    if symbol in parts:
        print(f"  {label:52} {parts[symbol] / goals:10,.0f}  {100 * parts[symbol] / total:4.1f} %")
' "$goals"
