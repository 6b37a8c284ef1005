#!/usr/bin/env bash
# The standard performance profile of the whole chain, on a fresh stack of release binaries: its own
# redis-server (AOF, appendfsync everysec, no RDB compression, as the compose stack) and the six services on
# free loopback ports, driven by `goalctl bench chains`.
#
#   scripts/bench.sh BIN_DIR [GOALS]
#
# 1. closed-loop sweep: GOALS/4 goals at each concurrency of BENCH_CONCURRENCY (default "16 64 256");
# 2. closed-loop: GOALS goals (default 20,000) at the concurrency that gave the most chains/s;
# 3. open-loop: GOALS goals offered at half the chains/s found in 2.
# Each run's table is printed; JSON reports go to .run/bench/. Exits non-zero when any run is wrong.
# Environment: BENCH_REPLICAS ("karaoke=2 goals=2", default one of each), BENCH_CONNECTIONS (default 4),
# BENCH_EVENTS_PER_WEBHOOK (channel_vacated events per webhook, default 1; Pusher batches up to about 20),
# BENCH_PRELOAD (idle goals stored before the first run, default 0), BENCH_REDIS_ARGS (extra redis-server
# arguments), BENCH_TRACE_SAMPLE (share of chains traced, default 0.01 as in Config/docker.json), LOG_LEVEL
# (default info, as shipped).
# BENCH_CLUSTER=1 runs the stack on a local Redis Cluster of 3 masters instead (same persistence),
# BENCH_CLUSTER_REPLICAS replicas each (default 0), streams split into BENCH_PARTITIONS (default: the
# services' own, 3).
# shellcheck disable=SC2034  # pids is read by gs_stop_all, through a nameref
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
GS_NAME=bench
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

gs_require redis-server redis-cli curl
bin=$(gs_bin_dir "${1:-}")
goals=${2:-20000}
connections=${BENCH_CONNECTIONS:-4}
events=${BENCH_EVENTS_PER_WEBHOOK:-1}
read -r -a concurrencies <<<"${BENCH_CONCURRENCY:-16 64 256}"
read -r -a redis_extra <<<"${BENCH_REDIS_ARGS:-}"
declare -A replicas=()
for svc in "${GS_RECEIVERS[@]}"; do replicas[$svc]=1; done
for entry in ${BENCH_REPLICAS:-}; do replicas[${entry%%=*}]=${entry#*=}; done

work=$(mktemp -d "${TMPDIR:-/tmp}/goal-signals-bench.XXXXXX")
out=$root/.run/bench
mkdir -p "$out"
declare -A pids=()
redis_pid=""
GS_CLUSTER_PIDS=()

cleanup() {
    local status=$?
    trap '' INT TERM PIPE
    set +e
    gs_stop_all pids 15
    [[ -z $redis_pid ]] || gs_stop_processes 10 "redis-server=$redis_pid"
    ((${#GS_CLUSTER_PIDS[@]} == 0)) || gs_stop_processes 10 "${GS_CLUSTER_PIDS[@]}"
    if ((status == 0)); then rm -rf "$work"; else echo "bench: failed (status $status); logs kept in $work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The local configuration, with the shipped docker settings' trace sample (1 % of chains) unless asked otherwise.
export CONFIG_FILE=$root/Config/local.json TRACE_SAMPLE=${BENCH_TRACE_SAMPLE:-0.01}
if [[ ${BENCH_CLUSTER:-} == 1 ]]; then
    GS_CLUSTER_REPLICAS=${BENCH_CLUSTER_REPLICAS:-0} \
        GS_CLUSTER_ARGS="--appendonly yes --appendfsync everysec --rdbcompression no --loglevel warning ${BENCH_REDIS_ARGS:-}" \
        gs_start_cluster "$work/cluster"
    REDIS_URL="redis://$(printf '127.0.0.1:%s,' "${GS_CLUSTER_PORTS[@]:0:3}" | sed 's/,$//')"
    export REDIS_URL
    [[ -z ${BENCH_PARTITIONS:-} ]] || export BUS_PARTITIONS=$BENCH_PARTITIONS
    redis_text="cluster of 3 masters × ${BENCH_CLUSTER_REPLICAS:-0} replicas (AOF everysec), ${BUS_PARTITIONS:-3} partitions"
else
    redis_port=$(gs_free_port)
    redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly yes --appendfsync everysec --rdbcompression no --dir "$work" \
        --loglevel warning --logfile "$work/redis.log" --daemonize no "${redis_extra[@]}" </dev/null &
    redis_pid=$!
    gs_wait_until 50 gs_pong "$redis_port" || gs_die "redis-server did not start on port $redis_port"
    export REDIS_URL=redis://127.0.0.1:$redis_port/0
    redis_text="redis 127.0.0.1:$redis_port (AOF everysec)"
fi
http_port=$(gs_free_port)
export HTTP_HOST=127.0.0.1 HTTP_PORT=$http_port
export PUSHER_APP_KEY=bench-key PUSHER_APP_SECRET=bench-secret ALLOW_UNSIGNED_WEBHOOKS=false
unset METRICS_PORT METRICS_HOST
"$bin/gateway" </dev/null >"$work/gateway.log" 2>&1 &
pids[gateway]=$!
for svc in "${GS_RECEIVERS[@]}"; do
    for ((n = 1; n <= replicas[$svc]; n++)); do
        "$bin/$svc" </dev/null >"$work/$svc-$n.log" 2>&1 &
        pids[$svc-$n]=$!
    done
done
gs_wait_until 100 curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$http_port/ready" 2>/dev/null \
    || gs_die "the gateway did not become ready"
replica_text=$(for svc in "${GS_RECEIVERS[@]}"; do printf '%s×%s ' "$svc" "${replicas[$svc]}"; done)
echo "bench: $redis_text, gateway :$http_port, $replica_text, $(nproc) cores, binaries from $bin"

# chains NAME ARGS...: one goalctl bench chains run; prints its table, keeps its JSON report.
chains() {
    local name=$1
    shift
    "$bin/goalctl" bench chains --connections "$connections" --events-per-webhook "$events" --report "$out/$name.json" "$@" | grep -v '^…'
}
rate_of() { python3 -c 'import json,sys; print(int(json.load(open(sys.argv[1]))["chainsPerSecond"]))' "$1"; }

preload=${BENCH_PRELOAD:-0}
best=0
best_concurrency=${concurrencies[0]}
for c in "${concurrencies[@]}"; do
    echo
    echo "== sweep: $((goals / 4)) goals, closed-loop, concurrency $c"
    chains "sweep-$c" --goals $((goals / 4)) --concurrency "$c" --preload "$preload"
    preload=0
    rate=$(rate_of "$out/sweep-$c.json")
    if ((rate > best)); then best=$rate best_concurrency=$c; fi
done
echo
echo "== closed-loop: $goals goals at concurrency $best_concurrency"
chains closed --goals "$goals" --concurrency "$best_concurrency"
half=$(($(rate_of "$out/closed.json") / 2))
echo
echo "== open-loop: $goals goals offered at $half chains/s (half the closed-loop rate)"
chains open --goals "$goals" --rate "$half"
echo
echo "bench: reports in $out"
