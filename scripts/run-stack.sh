#!/usr/bin/env bash
# Runs the whole stack on this machine in the foreground: Redis (started here only when none answers), the
# gateway and the five receiver groups, with every log line prefixed by its service. Ctrl-C stops it all.
#
#   scripts/run-stack.sh [BIN_DIR]      BIN_DIR defaults to .build/debug (make run passes the build's)
#
# Environment: REDIS_URL, HTTP_HOST, HTTP_PORT, CONFIG_FILE and every other variable the services read.
# A REDIS_URL listing several nodes (redis://host:port,host:port), or REDIS_CLUSTER=true, runs the stack
# on that Redis Cluster; RUN_CLUSTER=1 (make cluster-run) starts a local one (3 masters, 3 replicas) first.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
GS_NAME=run-stack
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

gs_require redis-cli redis-server curl
bin=$(gs_bin_dir "${1:-}")

run_dir=$root/.run
mkdir -p "$run_dir"
launcher=()
command -v setsid >/dev/null 2>&1 && launcher=(setsid)

GS_CLUSTER_PIDS=()
http_port=${HTTP_PORT:-$(gs_config_value http.port 8080)}
http_host=${HTTP_HOST:-$(gs_config_value http.host 127.0.0.1)}
[[ $http_host == 0.0.0.0 || $http_host == "::" ]] && http_host=127.0.0.1
gateway_url="http://$http_host:$http_port"

# Each service runs in its own session (setsid), so the terminal's Ctrl-C reaches only this script, which
# then stops the services in order: services first, Redis last. The log prefixer ignores INT and TERM so it
# keeps printing a service's last lines while it shuts down, and ends when that service closes its output.

declare -A pids=()
redis_pid=""
stopping=false

stop_all() {
    local code=$1
    $stopping && return
    stopping=true
    # Stopping must finish even when the terminal or the pipe reading this output is gone.
    trap '' INT TERM HUP PIPE
    set +e
    local entries=() svc
    for svc in "${GS_SERVICES[@]}"; do
        [[ -n ${pids[$svc]:-} ]] && entries+=("$svc=${pids[$svc]}")
    done
    if ((${#entries[@]} > 0)); then
        gs_say "stopping ${#entries[@]} services (SIGTERM, up to 15 s)"
        gs_stop_processes 15 "${entries[@]}"
        for svc in "${!GS_STOP_STATUS[@]}"; do
            ((GS_STOP_STATUS[$svc] == 0)) || gs_say "$svc exited with status ${GS_STOP_STATUS[$svc]}"
        done
    fi
    if [[ -n $redis_pid ]]; then
        gs_say "stopping the redis-server it started (pid $redis_pid)"
        gs_stop_processes 10 "redis-server=$redis_pid"
    fi
    if ((${#GS_CLUSTER_PIDS[@]} > 0)); then
        gs_say "stopping the local Redis Cluster it started (${#GS_CLUSTER_PIDS[@]} nodes)"
        gs_stop_processes 10 "${GS_CLUSTER_PIDS[@]}"
    fi
    exit "$code"
}
trap 'echo; stop_all 0' INT TERM HUP
trap 'stop_all $?' EXIT

if [[ ${RUN_CLUSTER:-} == 1 ]]; then
    rm -rf "$run_dir/cluster"
    gs_start_cluster "$run_dir/cluster" "${launcher[@]}"
    export REDIS_URL="redis://$(printf '127.0.0.1:%s,' "${GS_CLUSTER_PORTS[@]:0:3}" | sed 's/,$//')"
    gs_say "started a local Redis Cluster (3 masters, 3 replicas) on ports ${GS_CLUSTER_PORTS[*]} (logs: .run/cluster)"
fi
redis_url=${REDIS_URL:-$(gs_config_value redis.url redis://127.0.0.1:6379/0)}
cluster=false
[[ $redis_url == *,* || ${REDIS_CLUSTER:-} == true ]] && cluster=true
# A cluster URL's first node stands for the cluster in the checks below.
gs_parse_redis_url "${redis_url%%,*}"

port_is_local() {
    [[ $GS_REDIS_HOST == 127.* || $GS_REDIS_HOST == localhost || $GS_REDIS_HOST == ::1 ]]
}

if $cluster; then
    gs_redis_pong || gs_die "the cluster node $GS_REDIS_HOST:$GS_REDIS_PORT does not answer PING (REDIS_URL=$redis_url)"
    gs_redis_cli cluster info 2>/dev/null | grep -q '^cluster_state:ok' \
        || gs_die "$GS_REDIS_HOST:$GS_REDIS_PORT is not a node of a healthy Redis Cluster (CLUSTER INFO has no cluster_state:ok)"
    gs_say "using the Redis Cluster that $GS_REDIS_HOST:$GS_REDIS_PORT belongs to"
elif gs_redis_pong; then
    gs_say "using the Redis that answers at $GS_REDIS_HOST:$GS_REDIS_PORT"
else
    port_is_local || gs_die "Redis at $GS_REDIS_HOST:$GS_REDIS_PORT does not answer PING (REDIS_URL=$redis_url)"
    gs_port_in_use "$GS_REDIS_PORT" && gs_die "port $GS_REDIS_PORT answers but not as Redis (PING failed): free it or set REDIS_URL"
    mkdir -p "$run_dir/redis"
    "${launcher[@]}" redis-server --port "$GS_REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
        --dir "$run_dir/redis" --logfile "$run_dir/redis.log" --daemonize no </dev/null &
    redis_pid=$!
    for ((i = 0; i < 50; i++)); do
        gs_redis_pong && break
        gs_alive "$redis_pid" || gs_die "redis-server exited at start: see $run_dir/redis.log"
        sleep 0.1
    done
    gs_redis_pong || gs_die "redis-server did not answer PING within 5 s: see $run_dir/redis.log"
    gs_say "started redis-server on 127.0.0.1:$GS_REDIS_PORT without persistence (log: .run/redis.log)"
fi

gs_port_in_use "$http_port" && gs_die "port $http_port is taken (a previous stack still running?): stop it or set HTTP_PORT"

for svc in "${GS_SERVICES[@]}"; do
    prefix=$(printf '%-9s| ' "$svc")
    "${launcher[@]}" "$bin/$svc" </dev/null > >(trap '' INT TERM; exec sed -u "s/^/$prefix/") 2>&1 &
    pids[$svc]=$!
done
gs_say "started ${GS_SERVICES[*]} from $bin"

# The first service to end on its own ends the run.
check_services() {
    local svc status
    for svc in "${GS_SERVICES[@]}"; do
        if ! gs_alive "${pids[$svc]}"; then
            status=0
            wait "${pids[$svc]}" 2>/dev/null || status=$?
            unset "pids[$svc]"
            gs_say "$svc stopped on its own (exit status $status): stopping the rest" >&2
            stop_all 1
        fi
    done
}

ready=false
for ((i = 0; i < 600; i++)); do
    if curl -fsS -o /dev/null --max-time 1 "$gateway_url/health" 2>/dev/null; then
        ready=true
        break
    fi
    check_services
    sleep 0.1
done

goalctl=$bin/goalctl
if $ready; then
    # goalctl reads the same configuration; say so when this run differs from the defaults it would use.
    setup="" url=""
    [[ -n ${REDIS_URL:-} ]] && setup+="    export REDIS_URL=$REDIS_URL"$'\n'
    [[ ${REDIS_CLUSTER:-} == true ]] && setup+="    export REDIS_CLUSTER=true"$'\n'
    [[ -n ${CONFIG_FILE:-} ]] && setup+="    export CONFIG_FILE=$CONFIG_FILE"$'\n'
    [[ $gateway_url != http://127.0.0.1:8080 ]] && url=" --url $gateway_url"
    cat <<EOF

  The stack is up: gateway on $gateway_url, Redis at $GS_REDIS_HOST:$GS_REDIS_PORT. Try it (from $root):

${setup}    $goalctl goal create demo --target 360 --session demo-session --viewer viewer-1 --amount 500
    $goalctl webhook occupy demo --at \$(date +%s)$url
    $goalctl webhook vacate demo --at \$(( \$(date +%s) + 400 ))$url
    $goalctl goal show demo
    $goalctl trace demo

  Watch the signals: redis-cli -h $GS_REDIS_HOST -p $GS_REDIS_PORT PSUBSCRIBE 'signal:*'     Stop: Ctrl-C

EOF
else
    gs_say "the gateway does not answer $gateway_url/health after 60 s; still running, see its log lines" >&2
fi

while true; do
    # wait -n returns when any service ends (or a trapped signal arrives, whose trap then runs).
    wait -n "${pids[@]}" 2>/dev/null || true
    check_services
    sleep 0.1
done
