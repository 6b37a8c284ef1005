# Helpers shared by run-stack.sh and smoke.sh. Sourced, not run.
# shellcheck shell=bash disable=SC2034  # GS_* variables are read by the scripts that source this file

# The executables the package builds: the gateway, the five receiver groups, and the operator CLI.
GS_RECEIVERS=(karaoke goals sessions escrow tracking)
GS_SERVICES=(gateway "${GS_RECEIVERS[@]}")
GS_EXECUTABLES=("${GS_SERVICES[@]}" goalctl)

gs_die() {
    echo "$GS_NAME: $*" >&2
    exit 1
}

gs_say() {
    echo "$GS_NAME: $*"
}

# gs_bin_dir [DIR]: prints the absolute binary folder (DIR, or .build/debug), and fails with a clear message
# when any executable is missing from it.
gs_bin_dir() {
    local dir=${1:-.build/debug} exe missing=()
    [[ -d $dir ]] || gs_die "no binary folder '$dir': build first (make build, or swift build)"
    dir=$(cd "$dir" && pwd)
    for exe in "${GS_EXECUTABLES[@]}"; do
        [[ -x $dir/$exe ]] || missing+=("$exe")
    done
    ((${#missing[@]} == 0)) || gs_die "missing in $dir: ${missing[*]}: build first (make build, or swift build)"
    printf '%s\n' "$dir"
}

# gs_require CMD...: fails naming the commands that are not installed.
gs_require() {
    local cmd missing=()
    for cmd in "$@"; do
        command -v "$cmd" >/dev/null 2>&1 || missing+=("$cmd")
    done
    ((${#missing[@]} == 0)) || gs_die "not installed: ${missing[*]} (scripts/deps.sh installs them)"
}

# gs_parse_redis_url URL: sets GS_REDIS_HOST, GS_REDIS_PORT, GS_REDIS_PASSWORD and GS_REDIS_DB from
# redis://[user:password@]host[:port][/db] (host may be [v6]).
gs_parse_redis_url() {
    local url=$1 rest hostport
    [[ $url == redis://* ]] || gs_die "REDIS_URL must look like redis://[user:password@]host:port[/db], not '$url'"
    rest=${url#redis://}
    GS_REDIS_PASSWORD=""
    if [[ $rest == *@* ]]; then
        local userinfo=${rest%@*}
        rest=${rest##*@}
        if [[ $userinfo == *:* ]]; then
            local encoded=${userinfo#*:}
            GS_REDIS_PASSWORD=$(printf '%b' "${encoded//%/\\x}") # percent-decoding
        fi
    fi
    hostport=${rest%%/*}
    GS_REDIS_DB=0
    if [[ $rest == */* ]]; then
        GS_REDIS_DB=${rest#*/}
        GS_REDIS_DB=${GS_REDIS_DB:-0}
    fi
    if [[ $hostport =~ ^\[([^]]+)\](:([0-9]+))?$ ]]; then
        GS_REDIS_HOST=${BASH_REMATCH[1]}
        GS_REDIS_PORT=${BASH_REMATCH[3]:-6379}
    elif [[ $hostport =~ ^([^:]+)(:([0-9]+))?$ ]]; then
        GS_REDIS_HOST=${BASH_REMATCH[1]}
        GS_REDIS_PORT=${BASH_REMATCH[3]:-6379}
    else
        gs_die "cannot read host and port from REDIS_URL '$url'"
    fi
}

# gs_redis_cli ARGS...: redis-cli against the parsed URL (password through REDISCLI_AUTH, not argv).
gs_redis_cli() {
    REDISCLI_AUTH=$GS_REDIS_PASSWORD redis-cli -h "$GS_REDIS_HOST" -p "$GS_REDIS_PORT" -n "$GS_REDIS_DB" "$@"
}

gs_redis_pong() {
    [[ $(gs_redis_cli ping 2>/dev/null) == PONG ]]
}

# gs_pong PORT: whether the Redis on 127.0.0.1:PORT answers PING.
gs_pong() {
    [[ $(redis-cli -p "$1" ping 2>/dev/null) == PONG ]]
}

# gs_wait_until TRIES COMMAND...: runs COMMAND every 0.1 s until it succeeds, at most TRIES times.
gs_wait_until() {
    local tries=$1 i
    shift
    for ((i = 0; i < tries; i++)); do
        "$@" && return 0
        sleep 0.1
    done
    return 1
}

# gs_config_value KEY DEFAULT: the dotted KEY from $CONFIG_FILE (or Config/local.json), else DEFAULT.
gs_config_value() {
    local key=$1 default=$2 file=${CONFIG_FILE:-Config/local.json}
    if [[ -f $file ]] && command -v python3 >/dev/null 2>&1; then
        python3 - "$file" "$key" "$default" <<'PY' 2>/dev/null && return 0
import json, sys
path, key, default = sys.argv[1:4]
node = json.load(open(path))
for part in key.split("."):
    if not isinstance(node, dict) or part not in node:
        print(default)
        sys.exit(0)
    node = node[part]
print(str(node).lower() if isinstance(node, bool) else node)
PY
    fi
    printf '%s\n' "$default"
}

# gs_free_port: a TCP port on 127.0.0.1 that nothing listens on right now.
gs_free_port() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
        return
    fi
    local port tries
    for ((tries = 0; tries < 100; tries++)); do
        port=$((20000 + RANDOM % 40000))
        if ! (: </dev/tcp/127.0.0.1/"$port") 2>/dev/null; then
            printf '%s\n' "$port"
            return
        fi
    done
    gs_die "found no free port on 127.0.0.1"
}

# gs_port_in_use PORT: whether something accepts connections on 127.0.0.1:PORT.
gs_port_in_use() {
    (: </dev/tcp/127.0.0.1/"$1") 2>/dev/null
}

# gs_alive PID: whether the process still runs (bash reaps its own children, so an exited child is gone).
gs_alive() {
    kill -0 "$1" 2>/dev/null
}

# gs_stop_processes TIMEOUT NAME=PID...: SIGTERM to each, wait up to TIMEOUT seconds, SIGKILL the rest.
# Sets GS_STOP_STATUS[NAME] to each exit status (137 when it had to be killed).
declare -gA GS_STOP_STATUS=()
gs_stop_processes() {
    local timeout=$1 entry name pid deadline any status
    shift
    for entry in "$@"; do
        pid=${entry#*=}
        gs_alive "$pid" && kill -TERM "$pid" 2>/dev/null
    done
    deadline=$((SECONDS + timeout))
    while ((SECONDS < deadline)); do
        any=false
        for entry in "$@"; do
            gs_alive "${entry#*=}" && any=true
        done
        $any || break
        sleep 0.2
    done
    for entry in "$@"; do
        name=${entry%%=*}
        pid=${entry#*=}
        if gs_alive "$pid"; then
            echo "$GS_NAME: $name (pid $pid) did not stop within ${timeout}s: SIGKILL" >&2
            kill -KILL "$pid" 2>/dev/null || true
        fi
        status=0
        wait "$pid" 2>/dev/null || status=$?
        GS_STOP_STATUS[$name]=$status
    done
}

# gs_stop_all PIDS TIMEOUT: gs_stop_processes for every NAME=PID of the associative array named PIDS.
gs_stop_all() {
    local -n gs_stop_all_pids=$1
    local entries=() name
    for name in "${!gs_stop_all_pids[@]}"; do entries+=("$name=${gs_stop_all_pids[$name]}"); done
    ((${#entries[@]} == 0)) || gs_stop_processes "$2" "${entries[@]}"
}

# gs_start_cluster DIR LAUNCHER...: starts a local Redis Cluster of 3 masters, each with
# GS_CLUSTER_REPLICAS replicas (default 1), on free loopback ports (node timeout 2 s; no persistence unless
# GS_CLUSTER_ARGS says otherwise: it is added to every redis-server), each node's files and log in
# DIR/<port>, joins them with redis-cli --cluster create, and waits until every node reports
# cluster_state:ok. Sets GS_CLUSTER_PORTS (as created: the first three are masters) and GS_CLUSTER_PIDS
# (name=pid entries for gs_stop_processes), the latter as each node starts, so that a caller's exit trap
# stops the nodes started before a failure.
gs_start_cluster() {
    local dir=$1 port bus_port i replicas=${GS_CLUSTER_REPLICAS:-1} extra=() taken=()
    shift
    read -r -a extra <<<"${GS_CLUSTER_ARGS:-}"
    GS_CLUSTER_PORTS=()
    GS_CLUSTER_PIDS=()
    for ((i = 0; i < 3 * (1 + replicas); i++)); do
        # Ports are picked while earlier nodes may not have bound theirs yet: never hand one out twice. The
        # cluster bus defaults to the port + 10000, which may be taken or out of range: pick one too.
        port=$(gs_free_port)
        while [[ " ${taken[*]} " == *" $port "* ]]; do port=$(gs_free_port); done
        taken+=("$port")
        bus_port=$(gs_free_port)
        while [[ " ${taken[*]} " == *" $bus_port "* ]]; do bus_port=$(gs_free_port); done
        taken+=("$bus_port")
        mkdir -p "$dir/$port"
        "$@" redis-server --port "$port" --cluster-port "$bus_port" --bind 127.0.0.1 --cluster-enabled yes \
            --cluster-config-file "$dir/$port/nodes.conf" --cluster-node-timeout 2000 --save '' --appendonly no --repl-diskless-sync-delay 0 \
            --dir "$dir/$port" --logfile "$dir/$port/redis.log" --daemonize no "${extra[@]}" </dev/null &
        GS_CLUSTER_PIDS+=("redis-$port=$!")
        GS_CLUSTER_PORTS+=("$port")
    done
    for port in "${GS_CLUSTER_PORTS[@]}"; do
        gs_wait_until 50 gs_pong "$port" || gs_die "cluster node on port $port did not start: see $dir/$port/redis.log"
    done
    redis-cli --cluster create $(printf '127.0.0.1:%s ' "${GS_CLUSTER_PORTS[@]}") --cluster-replicas "$replicas" --cluster-yes \
        >"$dir/create.log" 2>&1 || gs_die "redis-cli --cluster create failed: see $dir/create.log"
    for port in "${GS_CLUSTER_PORTS[@]}"; do
        gs_wait_until 100 gs_cluster_ok "$port" || gs_die "the cluster did not come up: see $dir/*/redis.log"
    done
}

# gs_cluster_ok PORT: whether the cluster node on 127.0.0.1:PORT reports cluster_state:ok.
gs_cluster_ok() {
    redis-cli -p "$1" cluster info 2>/dev/null | grep -q '^cluster_state:ok'
}
