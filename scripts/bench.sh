#!/usr/bin/env bash
# The performance profiles of the whole chain, each on a fresh stack of release binaries: its own redis-server
# (AOF, appendfsync everysec, no RDB compression, as the compose stack) and the six services on free loopback
# ports, driven by `goalctl bench chains`.
#
#   scripts/bench.sh BIN_DIR [GOALS]
#
# Profiles (BENCH_PROFILES, default "standard batched traced long", run in that order):
#   standard  1. closed-loop sweep: GOALS/4 goals at each concurrency of BENCH_CONCURRENCY (default "16 64 256");
#             2. closed-loop: GOALS goals (default 20,000) at the concurrency that gave the most chains/s;
#             3. open-loop: GOALS goals offered at half the chains/s found in 2;
#             4. open-loop at a light load: BENCH_LIGHT_RATE chains/s (default 50) for BENCH_LIGHT_SECONDS
#                (default 30), where per-batch costs fall on single messages and any busy wait would show.
#   batched   2. and 3. with BENCH_BATCH channel_vacated events per webhook (default 10), as Pusher batches them.
#   traced    2. and 3. with every chain traced (the stack started with TRACE_SAMPLE=1).
#   long      open-loop for BENCH_LONG_SECONDS (default 300) at BENCH_LONG_RATE chains/s (default half the
#             standard closed-loop rate), with BGREWRITEAOF issued BENCH_LONG_REWRITE_AT seconds after the
#             first webhook (default two fifths of the run: 120 s); reports the tail latency and checks that
#             the rewrite happened.
# The closed loops of batched and traced run at the standard profile's best concurrency (the largest of
# BENCH_CONCURRENCY when standard is not run). Each run's table is printed, a summary of them all at the
# end; JSON reports go to .run/bench/ (standard: sweep-C, closed, open, light-open; others: <profile>-closed, -open).
# Exits non-zero when any run is wrong (at that run) or the long run's rewrite did not happen.
#
# BENCH_PERF=1 runs the first closed loop (the standard profile's when it runs) once more, as <run>-perf,
# recording `perf record -F BENCH_PERF_FREQUENCY -g` (default 999 Hz) of every service and redis-server from
# its first webhook until every group has caught up (perf slows the stack: the other runs go without it),
# and writes each process's hottest symbols by self time, demangled, to .run/bench/profile-<process>.txt; the
# top 10 of each are printed. Swift's release code keeps no frame pointers, so `-g` call chains stop at the
# first Swift frame: the time with callees is taken from a second recording, `--call-graph dwarf` at
# BENCH_PERF_DWARF_FREQUENCY (default 99 Hz; 0 for none). perf is installed (linux-perf) when missing.
#
# Environment: BENCH_REPLICAS ("karaoke=2 goals=2", default one of each), BENCH_CONNECTIONS (the load
# generator's HTTP connections, so the webhooks in flight at once: default 16), BENCH_EVENTS_PER_WEBHOOK (events per webhook outside the batched profile, default 1), BENCH_PRELOAD (idle
# goals stored before the first run, default 0), BENCH_REDIS_ARGS (extra redis-server arguments),
# BENCH_TRACE_SAMPLE (share of chains traced outside the traced profile, default 0.01 as in
# Config/docker.json), LOG_LEVEL (default info, as shipped).
# BENCH_CLUSTER=1 runs the stacks on a local Redis Cluster of 3 masters instead (same persistence),
# BENCH_CLUSTER_REPLICAS replicas each (default 0), streams split into BENCH_PARTITIONS (default: the
# services' own, 3).
# shellcheck disable=SC2034  # pids is read by gs_stop_all, through a nameref
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
GS_NAME=bench
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

gs_require redis-server redis-cli curl python3
bin=$(gs_bin_dir "${1:-}")
goals=${2:-20000}
connections=${BENCH_CONNECTIONS:-16}
events=${BENCH_EVENTS_PER_WEBHOOK:-1}
batch=${BENCH_BATCH:-10}
trace_sample=${BENCH_TRACE_SAMPLE:-0.01}
long_seconds=${BENCH_LONG_SECONDS:-300}
rewrite_at=${BENCH_LONG_REWRITE_AT:-$((long_seconds * 2 / 5))}
read -r -a profiles <<<"${BENCH_PROFILES:-standard batched traced long}"
read -r -a concurrencies <<<"${BENCH_CONCURRENCY:-16 64 256}"
read -r -a redis_extra <<<"${BENCH_REDIS_ARGS:-}"
declare -A replicas=()
for svc in "${GS_RECEIVERS[@]}"; do replicas[$svc]=1; done
for entry in ${BENCH_REPLICAS:-}; do replicas[${entry%%=*}]=${entry#*=}; done
for profile in "${profiles[@]}"; do
    [[ $profile =~ ^(standard|batched|traced|long)$ ]] || gs_die "unknown profile '$profile' in BENCH_PROFILES (standard, batched, traced, long)"
done
((${#profiles[@]} > 0)) || gs_die "BENCH_PROFILES names no profile"
if [[ " ${profiles[*]} " == *" long "* && " ${profiles[*]} " != *" standard "* && -z ${BENCH_LONG_RATE:-} ]]; then
    gs_die "the long profile runs at half the standard closed-loop rate: add standard to BENCH_PROFILES or set BENCH_LONG_RATE"
fi
((rewrite_at < long_seconds)) || gs_die "BENCH_LONG_REWRITE_AT ($rewrite_at) must fall inside BENCH_LONG_SECONDS ($long_seconds)"

perf=${BENCH_PERF:-0}
perf_frequency=${BENCH_PERF_FREQUENCY:-999}
dwarf_frequency=${BENCH_PERF_DWARF_FREQUENCY:-99}
if [[ $perf == 1 ]]; then
    scripts/deps.sh --also linux-perf:perf
    gs_require perf
    # Swift symbols are demangled by the toolchain's demangler; without one they stay mangled.
    demangler=(cat)
    for tool in swift-demangle /opt/swift/usr/bin/swift-demangle; do
        if command -v "$tool" >/dev/null 2>&1; then
            demangler=("$tool" --simplified)
            break
        fi
    done
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/goal-signals-bench.XXXXXX")
out=$root/.run/bench
mkdir -p "$out"
declare -A pids=()
redis_pid=""
redis_ports=()
GS_CLUSTER_PIDS=()
perf_pids=()
chains_pid=""
perf_pending=$perf
runs=()
on_sending=""
on_checking=""

# stack_stop: stops the services, then Redis (a single server or the cluster), and forgets them.
stack_stop() {
    gs_stop_all pids 15
    pids=()
    [[ -z $redis_pid ]] || gs_stop_processes 10 "redis-server=$redis_pid"
    redis_pid=""
    ((${#GS_CLUSTER_PIDS[@]} == 0)) || gs_stop_processes 10 "${GS_CLUSTER_PIDS[@]}"
    GS_CLUSTER_PIDS=()
    redis_ports=()
}

cleanup() {
    local status=$?
    trap '' INT TERM PIPE
    set +e
    # A run in the background ignores the terminal's SIGINT: stop it here.
    [[ -z $chains_pid ]] || { kill -TERM "$chains_pid" 2>/dev/null; wait "$chains_pid" 2>/dev/null; }
    perf_stop
    stack_stop
    if ((status == 0)); then rm -rf "$work"; else echo "bench: failed (status $status); logs kept in $work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The local configuration; the trace sample is set per stack.
export CONFIG_FILE=$root/Config/local.json

# stack_start NAME TRACE_SAMPLE: a fresh stack for one profile, its data and logs in $work/NAME: Redis (one
# server, or a cluster with BENCH_CLUSTER=1) with AOF everysec, and the gateway and every receiver group's
# replicas started with TRACE_SAMPLE (the services read it at start). Sets REDIS_URL, HTTP_PORT, pids,
# redis_pid and redis_ports.
stack_start() {
    local name=$1 dir=$work/$1 svc n redis_text replica_text port
    mkdir -p "$dir"
    export TRACE_SAMPLE=$2
    if [[ ${BENCH_CLUSTER:-} == 1 ]]; then
        GS_CLUSTER_REPLICAS=${BENCH_CLUSTER_REPLICAS:-0} \
            GS_CLUSTER_ARGS="--appendonly yes --appendfsync everysec --rdbcompression no --loglevel warning ${BENCH_REDIS_ARGS:-}" \
            gs_start_cluster "$dir/cluster"
        redis_ports=("${GS_CLUSTER_PORTS[@]}")
        REDIS_URL="redis://$(printf '127.0.0.1:%s,' "${GS_CLUSTER_PORTS[@]:0:3}" | sed 's/,$//')"
        export REDIS_URL
        [[ -z ${BENCH_PARTITIONS:-} ]] || export BUS_PARTITIONS=$BENCH_PARTITIONS
        redis_text="cluster of 3 masters × ${BENCH_CLUSTER_REPLICAS:-0} replicas (AOF everysec), ${BUS_PARTITIONS:-3} partitions"
    else
        port=$(gs_free_port)
        redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly yes --appendfsync everysec --rdbcompression no --dir "$dir" \
            --loglevel warning --logfile "$dir/redis.log" --daemonize no ${redis_extra[@]+"${redis_extra[@]}"} </dev/null &
        redis_pid=$!
        redis_ports=("$port")
        gs_wait_until 50 gs_pong "$port" || gs_die "redis-server did not start on port $port"
        export REDIS_URL=redis://127.0.0.1:$port/0
        redis_text="redis 127.0.0.1:$port (AOF everysec)"
    fi
    http_port=$(gs_free_port)
    export HTTP_HOST=127.0.0.1 HTTP_PORT=$http_port
    export PUSHER_APP_KEY=bench-key PUSHER_APP_SECRET=bench-secret ALLOW_UNSIGNED_WEBHOOKS=false
    unset METRICS_PORT METRICS_HOST
    "$bin/gateway" </dev/null >"$dir/gateway.log" 2>&1 &
    pids[gateway]=$!
    for svc in "${GS_RECEIVERS[@]}"; do
        for ((n = 1; n <= replicas[$svc]; n++)); do
            "$bin/$svc" </dev/null >"$dir/$svc-$n.log" 2>&1 &
            pids[$svc-$n]=$!
        done
    done
    gs_wait_until 100 curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$http_port/ready" 2>/dev/null \
        || gs_die "the gateway did not become ready"
    replica_text=$(for svc in "${GS_RECEIVERS[@]}"; do printf '%s×%s ' "$svc" "${replicas[$svc]}"; done)
    echo "bench: [$name] $redis_text, gateway :$http_port, ${replica_text}TRACE_SAMPLE=$TRACE_SAMPLE, $(nproc) cores, binaries from $bin"
}

# stack_processes: NAME=PID of every process of the stack (a receiver's replica number only when it has several).
stack_processes() {
    local key svc
    for key in "${!pids[@]}"; do
        svc=${key%-*}
        if [[ $key != gateway && ${replicas[$svc]} == 1 ]]; then echo "$svc=${pids[$key]}"; else echo "$key=${pids[$key]}"; fi
    done
    [[ -z $redis_pid ]] || echo "redis-server=$redis_pid"
    local entry
    for entry in "${GS_CLUSTER_PIDS[@]}"; do echo "$entry"; done
}

# until_line PID FILE PATTERN: waits until FILE has a line matching PATTERN; fails when PID ends first.
until_line() {
    local pid=$1 file=$2 pattern=$3
    until grep -q -- "$pattern" "$file" 2>/dev/null; do
        gs_alive "$pid" || return 1
        sleep 0.1
    done
}

# chains NAME ARGS...: one `goalctl bench chains` run against the running stack; prints its table, keeps its
# JSON report as .run/bench/NAME.json and its progress in $work/NAME.progress (shown when it fails). The
# functions named by on_sending and on_checking, when set, are called once the webhooks start (with the
# run's pid) and once every group has caught up.
chains() {
    local name=$1 progress=$work/$1.progress pid status=0
    shift
    runs+=("$name")
    "$bin/goalctl" bench chains --connections "$connections" --report "$out/$name.json" "$@" >"$work/$name.table" 2>"$progress" &
    pid=$!
    chains_pid=$pid
    if [[ -n $on_sending ]] && until_line "$pid" "$progress" '^… sending '; then "$on_sending" "$pid"; fi
    if [[ -n $on_checking ]] && until_line "$pid" "$progress" '^… every group caught up'; then "$on_checking"; fi
    wait "$pid" || status=$?
    chains_pid=""
    cat "$work/$name.table"
    if ((status != 0)); then
        echo "bench: $name failed (status $status); its last progress:" >&2
        tail -n 5 "$progress" >&2
    fi
    return "$status"
}
rate_of() { python3 -c 'import json,sys; print(int(json.load(open(sys.argv[1]))["chainsPerSecond"]))' "$1"; }

# perf_start: `perf record` of each process of the stack until perf_stop: -g at perf_frequency for the self
# time, and --call-graph dwarf at dwarf_frequency for the time with callees.
perf_start() {
    local entry name pid
    while IFS= read -r entry; do
        name=${entry%%=*}
        pid=${entry#*=}
        perf record -F "$perf_frequency" -g -p "$pid" -o "$work/perf-$name.data" >"$work/perf-$name.log" 2>&1 &
        perf_pids+=("$!")
        if ((dwarf_frequency > 0)); then
            perf record -F "$dwarf_frequency" --call-graph dwarf,16384 -p "$pid" -o "$work/dwarf-$name.data" >"$work/dwarf-$name.log" 2>&1 &
            perf_pids+=("$!")
        fi
    done < <(stack_processes)
}

perf_stop() {
    local pid
    for pid in "${perf_pids[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
    for pid in "${perf_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    perf_pids=()
}

# perf_symbols DATA MODE: the symbol lines of `perf report` (MODE --no-children: time in the symbol itself;
# --children: with its callees), largest first, Swift names demangled.
perf_symbols() {
    perf report -i "$1" "$2" --sort sym --stdio -g none 2>/dev/null | "${demangler[@]}" | grep -E '^ +[0-9.]+%' || true
}

# perf_report: .run/bench/profile-<process>.txt for each recording, and the top 10 of each on the screen.
perf_report() {
    local data name file
    echo
    echo "== perf: where each process's CPU went in the recorded run (self time; full lists in $out/profile-*.txt)"
    for data in "$work"/perf-*.data; do
        [[ -e $data ]] || continue
        name=$(basename "$data" .data)
        name=${name#perf-}
        file=$out/profile-$name.txt
        perf_symbols "$data" --no-children >"$work/self-$name.txt"
        {
            echo "# $name: perf record -F $perf_frequency -g, closed-loop run ($goals goals at $best_concurrency in flight); $(perf report -i "$data" --stdio -g none 2>/dev/null | grep -m1 '^# Samples' | sed 's/^# //')"
            echo "# self: time in the symbol itself (perf report --no-children --sort sym)"
            head -n 40 "$work/self-$name.txt"
            echo
            if [[ -e $work/dwarf-$name.data ]]; then
                echo "# with callees: time in the symbol and what it called (perf record -F $dwarf_frequency --call-graph dwarf;" \
                    "perf report --children --sort sym)"
                perf_symbols "$work/dwarf-$name.data" --children | head -n 60
            fi
        } >"$file"
        echo "-- $name"
        head -n 10 "$work/self-$name.txt" | cut -c1-160
    done
}

# redis_info FIELD: FIELD of INFO persistence from every Redis node of the stack, space-separated.
redis_info() {
    local port
    for port in "${redis_ports[@]}"; do
        redis-cli -p "$port" info persistence | tr -d '\r' | sed -n "s/^$1://p"
    done | paste -sd' '
}

# aof_idle: whether no node of the stack is rewriting its AOF or has a rewrite scheduled.
aof_idle() {
    [[ " $(redis_info aof_rewrite_in_progress) $(redis_info aof_rewrite_scheduled) " != *" 1 "* ]]
}

# The long run's hook: BGREWRITEAOF on every node rewrite_at seconds after the first webhook.
rewrite_reply=""
rewrites_before=""
long_rewrite() {
    local pid=$1 at=$((SECONDS + rewrite_at)) port
    echo "bench: [long] webhooks started; BGREWRITEAOF in ${rewrite_at} s"
    while ((SECONDS < at)); do
        gs_alive "$pid" || return 0
        sleep 1
    done
    rewrites_before=$(redis_info aof_rewrites)
    rewrite_reply=$(for port in "${redis_ports[@]}"; do redis-cli -p "$port" bgrewriteaof 2>&1; done | paste -sd';')
    echo "bench: [long] BGREWRITEAOF at ${rewrite_at} s: $rewrite_reply"
}

# closed_then_open PROFILE PREFIX EVENTS: GOALS goals closed-loop at best_concurrency, then open-loop at half
# that rate. With BENCH_PERF=1, the first time, the closed loop runs once more under perf in between: perf
# slows what it records, so the figures of the closed loop and what follows from them come from the run
# without it.
closed_then_open() {
    local profile=$1 prefix=$2 events_per_webhook=$3 half
    echo
    echo "== $profile: closed-loop, $goals goals at concurrency $best_concurrency, $events_per_webhook events per webhook"
    chains "${prefix}closed" --events-per-webhook "$events_per_webhook" --goals "$goals" --concurrency "$best_concurrency"
    if [[ $perf_pending == 1 ]]; then
        perf_pending=0
        echo
        echo "== $profile: the same closed loop again, every process recorded by perf"
        on_sending=perf_start on_checking=perf_stop
        chains "${prefix}closed-perf" --events-per-webhook "$events_per_webhook" --goals "$goals" --concurrency "$best_concurrency"
        on_sending="" on_checking=""
        perf_stop
        perf_report
    fi
    closed_rate=$(rate_of "$out/${prefix}closed.json")
    half=$((closed_rate / 2))
    echo
    echo "== $profile: open-loop, $goals goals offered at $half chains/s (half the closed-loop rate)"
    chains "${prefix}open" --events-per-webhook "$events_per_webhook" --goals "$goals" --rate "$half"
}

best_concurrency=$(printf '%s\n' "${concurrencies[@]}" | sort -n | tail -n 1)
low_rate=${BENCH_LIGHT_RATE:-50}
low_seconds=${BENCH_LIGHT_SECONDS:-30}
standard_rate=""
closed_rate=""

profile_standard() {
    local preload=${BENCH_PRELOAD:-0} best=0 c rate
    stack_start standard "$trace_sample"
    for c in "${concurrencies[@]}"; do
        echo
        echo "== standard: sweep, $((goals / 4)) goals, closed-loop, concurrency $c"
        chains "sweep-$c" --events-per-webhook "$events" --goals $((goals / 4)) --concurrency "$c" --preload "$preload"
        preload=0
        rate=$(rate_of "$out/sweep-$c.json")
        if ((rate > best)); then best=$rate best_concurrency=$c; fi
    done
    closed_then_open standard "" "$events"
    standard_rate=$closed_rate
    # A light load: a chain at a time, mostly, so per-batch costs fall on one message and idle waits show.
    echo
    echo "== standard: open-loop at a light load, $((low_rate * low_seconds)) goals offered at $low_rate chains/s"
    chains light-open --events-per-webhook "$events" --goals $((low_rate * low_seconds)) --rate "$low_rate"
    stack_stop
}

profile_batched() {
    stack_start batched "$trace_sample"
    closed_then_open batched batched- "$batch"
    stack_stop
}

profile_traced() {
    stack_start traced 1
    closed_then_open traced traced- "$events"
    stack_stop
}

profile_long() {
    local rate=${BENCH_LONG_RATE:-$((standard_rate / 2))} long_goals rewrites_start rewrites_after status_after
    long_goals=$((rate * long_seconds))
    stack_start long "$trace_sample"
    rewrites_start=$(redis_info aof_rewrites)
    echo
    echo "== long: open-loop, $long_goals goals offered at $rate chains/s ($long_seconds s), BGREWRITEAOF at $rewrite_at s"
    on_sending=long_rewrite
    chains long-open --events-per-webhook "$events" --goals "$long_goals" --rate "$rate" --timeout $((long_seconds * 2 + 300))
    on_sending=""
    # A rewrite still running would hide its status: wait for it (and any scheduled one) to end.
    gs_wait_until 1200 aof_idle || gs_die "[long] the AOF rewrite did not finish within 120 s of the run's end"
    rewrites_after=$(redis_info aof_rewrites)
    status_after=$(redis_info aof_last_bgrewrite_status)
    python3 - "$out/long-open.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
l = r["latencyMs"]
print(f"bench: [long] {r['seconds']:.0f} s at {r['chainsPerSecond']:.0f} chains/s: p99 {l['p99']:.1f} ms, p99.9 {l['p99.9']:.1f} ms, max {l['max']:.1f} ms")
PY
    echo "bench: [long] AOF rewrites (aof_rewrites): $rewrites_start at the start, $rewrites_before just before BGREWRITEAOF," \
        "$rewrites_after at the end; the last took $(redis_info aof_last_rewrite_time_sec) s, status $status_after"
    [[ -n $rewrites_before ]] || gs_die "[long] the run ended before BGREWRITEAOF was issued"
    # Redis starts a rewrite on BGREWRITEAOF, or says one is already running (an automatic one): either way a
    # rewrite ran at that moment; it must have completed, and well.
    [[ $rewrite_reply =~ ^((Background append only file rewriting (started|scheduled)|ERR Background append only file rewriting already in progress);?)+$ ]] \
        || gs_die "[long] BGREWRITEAOF was refused: $rewrite_reply"
    local start after i
    read -r -a start <<<"$rewrites_start"
    read -r -a after <<<"$rewrites_after"
    for i in "${!after[@]}"; do
        ((after[i] > start[i])) || gs_die "[long] Redis on ${redis_ports[i]} counted no AOF rewrite during the run"
    done
    [[ " $status_after " != *" err"* ]] || gs_die "[long] an AOF rewrite failed (aof_last_bgrewrite_status: $status_after)"
    echo "bench: [long] a rewrite ran at ${rewrite_at} s and completed (aof_last_bgrewrite_status ok)"
    stack_stop
    rm -rf "$work/long/appendonlydir"
}

for profile in "${profiles[@]}"; do
    "profile_$profile"
done

echo
echo "== summary (chains/s, latency ms webhook → goal.ended, CPU per chain; µs of CPU per delivery by group, per stored event for the gateway)"
python3 - "$out" "${runs[@]}" <<'PY'
import json, os, sys
out, names = sys.argv[1], sys.argv[2:]
for name in names:
    r = json.load(open(os.path.join(out, name + ".json")))
    l = r["latencyMs"]
    per = r.get("cpuMicrosecondsPerDelivery", {})
    groups = " ".join(f"{g} {per[g]:.1f}" for g in ["gateway", "karaoke", "goals", "sessions", "escrow", "tracking"] if g in per)
    print(f"{name:16} {r['chainsPerSecond']:6.0f}/s  p50 {l['p50']:6.1f}  p99 {l['p99']:6.1f}  p99.9 {l['p99.9']:6.1f}  max {l['max']:7.1f}"
          f"  {r['cpuMsPerChain'].get('total', 0):.2f} ms/chain  µs/delivery: {groups}"
          + ("" if r["verified"] else "  WRONG"))
PY
[[ $perf_pending != 1 ]] || echo "bench: BENCH_PERF=1 recorded nothing: no profile of this run has a closed loop"
echo
echo "bench: reports in $out"
