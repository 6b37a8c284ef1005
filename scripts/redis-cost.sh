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
# services wait for it, and the chain rate printed means nothing here. So that the figure does not grow
# with the run's length, Redis's background work (counted for REDIS_COST_IDLE_SECONDS, default 20, while
# the stack idles after the run) is taken out in proportion. valgrind is installed when missing.
# REDIS_COST_TRACE_SAMPLE sets the share of chains traced (default 0.01, the docker settings); REDIS_COST_KEEP=FILE
# keeps callgrind's counts there, for `callgrind_annotate --inclusive=yes FILE` by function.
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
# Counted around the run only; Redis's background work (the services' once-a-second recovery passes and lag
# measurements, blocked reads timing out) is counted apart while the stack idles and taken out in proportion
# to the run's length, which valgrind stretches.
callgrind_control -z "$redis_pid" >/dev/null 2>&1
started=$(date +%s.%N)
"$bin/goalctl" bench chains --goals "$goals" --concurrency 64 --connections 2 | grep -E '^(result|redis commands)'
run_seconds=$(python3 -c "import sys, time; print(f'{time.time() - float(sys.argv[1]):.1f}')" "$started")
callgrind_control -d "$redis_pid" >/dev/null 2>&1
idle_seconds=${REDIS_COST_IDLE_SECONDS:-20}
callgrind_control -z "$redis_pid" >/dev/null 2>&1
sleep "$idle_seconds"
callgrind_control -d "$redis_pid" >/dev/null 2>&1

gs_stop_all pids 15
pids=()
redis-cli -p "$redis_port" shutdown nosave >/dev/null 2>&1 || true
gs_stop_processes 60 "redis-server=$redis_pid"
redis_pid=""

run_file=$(ls "$work"/callgrind.out.* | sort -t. -k3 -n | sed -n 1p)
idle_file=$(ls "$work"/callgrind.out.* | sort -t. -k3 -n | sed -n 2p)
if [[ -n ${REDIS_COST_KEEP:-} ]]; then
    cp "$run_file" "$REDIS_COST_KEEP"
    echo "redis-cost: the run's counts kept in $REDIS_COST_KEEP (callgrind_annotate --inclusive=yes shows them by function)"
fi
callgrind_annotate --inclusive=yes "$run_file" >"$work/run.txt" 2>/dev/null
callgrind_annotate --inclusive=yes "$idle_file" >"$work/idle.txt" 2>/dev/null
python3 - "$goals" "$work/run.txt" "$work/idle.txt" "$run_seconds" "$idle_seconds" <<'PY'
import re, sys
goals, run_path, idle_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
run_seconds, idle_seconds = float(sys.argv[4]), float(sys.argv[5])
names = {
    "evalGenericCommand": "scripts (EVALSHA, with the commands it calls)",
    "xreadCommand": "stream reads (XREADGROUP)",
    "feedAppendOnlyFile": "AOF (formatting what is written)",
    "processMultibulkBuffer": "parsing requests",
    "hgetallCommand": "hash reads (HGETALL)",
}
def counts(path):
    total, parts = None, {}
    for line in open(path):
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
    return total, parts
run_total, run_parts = counts(run_path)
idle_total, idle_parts = counts(idle_path)
share = run_seconds / idle_seconds
net = run_total - idle_total * share
print(f"run                           {run_seconds:.1f} s under valgrind; background {idle_total / idle_seconds:,.0f} instructions/s while idle")
print(f"redis instructions per chain  {net / goals:12,.0f}   ({run_total / goals:,.0f} with the background)")
for symbol, label in names.items():
    if symbol in run_parts:
        part = run_parts[symbol] - idle_parts.get(symbol, 0) * share
        print(f"  {label:52} {part / goals:10,.0f}  {100 * part / net:4.1f} %")
PY
