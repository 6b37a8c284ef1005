#!/usr/bin/env bash
# Smoke test of the built executables as an operator starts them: a private redis-server and every service on
# free loopback ports with Config/local.json; each answers /ready (or /health) and /metrics, an unsigned webhook
# is refused, and goalctl creates a goal, sends it a signed webhook that starts its timer, shows and traces it.
# The whole chain (vacate, progress, completion, every goal.ended effect) is the end-to-end tests' to walk
# (Tests/EndToEndTests/ReferenceFlowTests.swift), and the compose test's in Docker.
#
#   scripts/smoke.sh [BIN_DIR]      BIN_DIR defaults to .build/debug (make test passes the build's)
#
# Prints "smoke: N passed, M failed" and exits non-zero on any failure, after printing the services' logs.
# Everything it starts is stopped on exit, whatever happens.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
GS_NAME=smoke
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

gs_require redis-server redis-cli curl
bin=$(gs_bin_dir "${1:-}")
goalctl=$bin/goalctl

work=$(mktemp -d "${TMPDIR:-/tmp}/goal-signals-smoke.XXXXXX")
passed=0
failed=0
declare -A pids=()
redis_pid=""
finished=false

pass() {
    passed=$((passed + 1))
    echo "  ok    $*"
}
fail() {
    failed=$((failed + 1))
    echo "  FAIL  $*"
}
# expect NAME EXPECTED ACTUAL
expect() {
    if [[ $3 == "$2" ]]; then pass "$1 = $2"; else fail "$1: expected '$2', got '${3}'"; fi
}

show_logs() {
    local log
    for log in "$work"/*.log; do
        [[ -f $log ]] || continue
        echo "----- ${log##*/} (last 200 lines) -----"
        tail -n 200 "$log"
    done
    echo "----- end of logs (kept in $work) -----"
}

# Stops what is still running: the services first, then Redis.
stop_everything() {
    local entries=() svc
    for svc in "${!pids[@]}"; do
        entries+=("$svc=${pids[$svc]}")
    done
    pids=()
    ((${#entries[@]} == 0)) || gs_stop_processes 15 "${entries[@]}"
    if [[ -n $redis_pid ]]; then
        gs_stop_processes 10 "redis-server=$redis_pid"
        redis_pid=""
    fi
}

cleanup() {
    local status=$?
    trap '' INT TERM PIPE
    set +e
    stop_everything
    if $finished && ((status == 0)); then
        rm -rf "$work"
    elif ! $finished; then
        echo "smoke: stopped early (status $status)"
        show_logs
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# dump_state: what Redis holds for the smoke goal, for the logs of a failed run.
dump_state() {
    local key
    {
        for key in 'goal:{smoke-1}' 'escrow:{smoke-1}' 'session:{smoke-session}'; do
            echo "HGETALL $key"
            rcli HGETALL "$key" | paste -sd ' ' -
        done
        echo "streams (XLEN):"
        for key in $(rcli --scan --pattern '*' | sort); do
            [[ $(rcli TYPE "$key") == stream ]] && echo "  $key $(rcli XLEN "$key")"
        done
    } >"$work/redis-state.log" 2>&1 || true
}

# finish: stops the services (each must exit 0), prints the summary, and exits 0 only if nothing failed.
finish() {
    local svc entries=()
    ((failed == 0)) || dump_state
    for svc in "${GS_SERVICES[@]}"; do
        [[ -n ${pids[$svc]:-} ]] && entries+=("$svc=${pids[$svc]}")
    done
    pids=()
    if ((${#entries[@]} > 0)); then
        gs_stop_processes 15 "${entries[@]}"
        for svc in "${GS_SERVICES[@]}"; do
            [[ -n ${GS_STOP_STATUS[$svc]:-} ]] && expect "$svc exit status after SIGTERM" 0 "${GS_STOP_STATUS[$svc]}"
        done
    fi
    finished=true
    if ((failed > 0)); then
        show_logs
    fi
    echo "smoke: $passed passed, $failed failed"
    ((failed == 0))
}

# abort MESSAGE: a failure after which the remaining checks make no sense.
abort() {
    fail "$*"
    finish || exit 1
}

rcli() {
    redis-cli -h 127.0.0.1 -p "$redis_port" "$@" 2>&1
}

# poll SECONDS COMMAND...: runs COMMAND every 0.2 s until it succeeds or SECONDS pass; gives up early when a
# service has died.
poll() {
    local seconds=$1 deadline svc status
    shift
    deadline=$((SECONDS + seconds))
    while ((SECONDS < deadline)); do
        "$@" && return 0
        for svc in "${!pids[@]}"; do
            gs_alive "${pids[$svc]}" && continue
            status=0
            wait "${pids[$svc]}" 2>/dev/null || status=$?
            unset "pids[$svc]"
            abort "$svc exited on its own with status $status (see its log below)"
        done
        sleep 0.2
    done
    "$@"
}

# run_goalctl NAME ARGS...: runs goalctl, output to goalctl.log; a check that it exits 0.
run_goalctl() {
    local name=$1 status=0
    shift
    echo "\$ goalctl $*" >>"$work/goalctl.log"
    "$goalctl" "$@" >>"$work/goalctl.log" 2>&1 || status=$?
    expect "goalctl $name exit status" 0 "$status"
}

# ---------------------------------------------------------------------------------------------- ports
ports=()
while ((${#ports[@]} < 7)); do
    port=$(gs_free_port)
    [[ " ${ports[*]} " == *" $port "* ]] || ports+=("$port")
done
redis_port=${ports[0]}
http_port=${ports[1]}
metrics_ports=("${ports[@]:2}")
gateway=http://127.0.0.1:$http_port
echo "smoke: redis on 127.0.0.1:$redis_port, gateway on $gateway, binaries from $bin"

# ---------------------------------------------------------------------------------------------- redis
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" --loglevel warning \
    --logfile "$work/redis.log" --daemonize no </dev/null &
redis_pid=$!
redis_up() { [[ $(rcli ping) == PONG ]]; }
for ((i = 0; i < 50; i++)); do
    redis_up && break
    sleep 0.1
done
redis_up || abort "redis-server did not answer PING on port $redis_port within 5 s"

# ---------------------------------------------------------------------------------------------- services
export CONFIG_FILE=$root/Config/local.json
export REDIS_URL=redis://127.0.0.1:$redis_port/0
export HTTP_HOST=127.0.0.1
export HTTP_PORT=$http_port
export PUSHER_APP_KEY=smoke-key
export PUSHER_APP_SECRET=smoke-secret
export ALLOW_UNSIGNED_WEBHOOKS=false
unset METRICS_PORT METRICS_HOST

"$bin/gateway" </dev/null >"$work/gateway.log" 2>&1 &
pids[gateway]=$!
for i in "${!GS_RECEIVERS[@]}"; do
    svc=${GS_RECEIVERS[$i]}
    METRICS_HOST=127.0.0.1 METRICS_PORT=${metrics_ports[$i]} "$bin/$svc" </dev/null >"$work/$svc.log" 2>&1 &
    pids[$svc]=$!
done

answers() { curl -fsS -o /dev/null --max-time 2 "$1" 2>/dev/null; }
if poll 30 answers "$gateway/ready"; then pass "gateway answers /ready"; else abort "gateway /ready did not answer 200 within 30 s"; fi
for i in "${!GS_RECEIVERS[@]}"; do
    svc=${GS_RECEIVERS[$i]}
    if poll 30 answers "http://127.0.0.1:${metrics_ports[$i]}/health"; then
        pass "$svc answers /health"
    else
        abort "$svc /health (METRICS_PORT=${metrics_ports[$i]}) did not answer 200 within 30 s"
    fi
done
# The health probe the containers use: each executable asks its own running service's /ready.
if out=$("$bin/gateway" --probe 2>&1); then pass "gateway --probe: $out"; else fail "gateway --probe: $out"; fi
for i in "${!GS_RECEIVERS[@]}"; do
    svc=${GS_RECEIVERS[$i]}
    if out=$(METRICS_HOST=127.0.0.1 METRICS_PORT=${metrics_ports[$i]} "$bin/$svc" --probe 2>&1); then
        pass "$svc --probe: $out"
    else
        fail "$svc --probe: $out"
    fi
done
if out=$("$bin/goals" --bogus 2>&1); then fail "goals --bogus was accepted"; else pass "an unknown argument is refused: $out"; fi
metrics=$(curl -fsS --max-time 2 "$gateway/metrics" 2>/dev/null) || metrics=""
if [[ -n $metrics ]]; then pass "gateway serves /metrics"; else fail "gateway /metrics answered nothing"; fi

# An unsigned webhook is refused when a secret is configured and unsigned webhooks are not allowed.
code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 5 -H 'Content-Type: application/json' \
    --data "{\"time_ms\": $(($(date +%s) * 1000)), \"events\": [{\"name\": \"channel_occupied\", \"channel\": \"presence-enc-goal@smoke-unsigned\"}]}" \
    "$gateway/notify/pusher" 2>/dev/null) || code="none"
expect "unsigned webhook HTTP status" 401 "$code"

# ---------------------------------------------------------------------------------------------- the flow
goal='goal:{smoke-1}'
run_goalctl "goal create" goal create smoke-1 --target 360 --session smoke-session --viewer viewer-1 --amount 500
expect "$goal active after create" 1 "$(rcli HGET "$goal" active)"
expect "$goal levels.0.target" 360 "$(rcli HGET "$goal" levels.0.target)"

T=$(date +%s)
run_goalctl "webhook occupy" webhook occupy smoke-1 --at "$T" --url "$gateway"
timer_started() { [[ $(rcli HGET "$goal" context.started) == "$T" ]]; }
if poll 10 timer_started; then
    pass "occupy started the timer (context.started = $T)"
else
    fail "context.started: expected '$T', got '$(rcli HGET "$goal" context.started)' after 10 s"
fi

run_goalctl "goal show" goal show smoke-1
run_goalctl "trace" trace smoke-1

finish
