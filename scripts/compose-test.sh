#!/usr/bin/env bash
# The compose stack, built and run for real: builds the image from the Dockerfile, starts docker-compose.yml
# with 3 goals and 2 sessions replicas and Prometheus, waits until every service is healthy, drives signed
# webhooks for 200 goals through the gateway's port on 127.0.0.1, SIGKILLs one goals replica while the vacates
# arrive, checks every goal, session and escrow with Docs/redis-cli.md's recipes through
# `docker-compose exec redis redis-cli`, checks Prometheus's targets and every query of the Grafana dashboard,
# runs goalctl through compose, and brings it all down (`down -v`).
#
#   scripts/compose-test.sh          (make compose-test; make test runs it)
#
# Uses the Docker engine that answers, else starts a private dockerd (root) and stops it at the end. Base
# images: the official ones when the engine has them (COMPOSE_TEST_PULL=1 also tries pulling them), else local
# stand-ins made once per machine (scripts/docker-lib.sh). Traffic goes to 127.0.0.1 and to the stack's
# containers only. Prints "compose-test: N passed, M failed" and exits non-zero on any failure.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
GS_NAME=compose-test
# shellcheck source=scripts/lib.sh
source scripts/lib.sh
# shellcheck source=scripts/docker-lib.sh
source scripts/docker-lib.sh

GOALS=${COMPOSE_TEST_GOALS:-200}
GOALS_REPLICAS=3
SESSIONS_REPLICAS=2
ENDED_GOAL=ct-$(printf '%03d' "$GOALS")
started=$SECONDS
passed=0
failed=0
work=$(mktemp -d "${TMPDIR:-/tmp}/goal-signals-compose.XXXXXX")
compose_up=false

export COMPOSE_PROJECT_NAME=goal-signals-test
compose() {
    docker-compose --ansi never --profile observability "$@"
}

pass() {
    passed=$((passed + 1))
    echo "  ok    $*"
}
fail() {
    failed=$((failed + 1))
    echo "  FAIL  $*"
}
check_py() { # check_py ARGS...: runs compose-check.py and counts the ok and FAIL lines it prints
    local status=0 oks fails
    python3 scripts/compose-check.py "$@" >"$work/check.out" 2>&1 || status=$?
    cat "$work/check.out"
    oks=$(grep -c '^  ok ' "$work/check.out" || true)
    fails=$(grep -c '^  FAIL ' "$work/check.out" || true)
    passed=$((passed + oks))
    failed=$((failed + fails))
    if ((status != 0 && fails == 0)); then
        fail "compose-check.py $1 stopped with status $status"
    fi
}

cleanup() {
    local status=$?
    trap - EXIT INT TERM
    if $compose_up; then
        if ((failed > 0 || status != 0)); then
            echo "----- service logs (last 30 lines each) -----"
            compose logs --no-color --tail 30 2>&1 | tail -n 400 || true
        fi
        gs_say "bringing the stack down (down -v)"
        compose down -v --remove-orphans >"$work/down.log" 2>&1 || cat "$work/down.log"
    fi
    gs_docker_engine_stop
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

gs_require docker docker-compose python3 readelf

# ---- engine and base images
gs_docker_engine
export SWIFT_IMAGE RUNTIME_IMAGE REDIS_IMAGE PROMETHEUS_IMAGE
SWIFT_IMAGE=$(gs_base_image swift:6.3-bookworm)
RUNTIME_IMAGE=$(gs_base_image debian:bookworm-slim)
REDIS_IMAGE=$(gs_base_image redis:7)
PROMETHEUS_IMAGE=$(gs_base_image prom/prometheus)
gs_say "base images: $SWIFT_IMAGE, $RUNTIME_IMAGE, $REDIS_IMAGE, $PROMETHEUS_IMAGE"

# ---- the image, built by compose with BuildKit (SwiftPM's build folder is a cache mount kept by the engine).
# docker-compose v1 builds through the docker CLI: one with BuildKit built in (20.10) or with buildx.
export DOCKER_BUILDKIT=1 COMPOSE_DOCKER_CLI_BUILD=1
if ! docker buildx version >/dev/null 2>&1; then
    [[ -x /usr/bin/docker ]] && /usr/bin/docker version --format '{{.Client.Version}}' 2>/dev/null | grep -q '^20\.' \
        || gs_die "building needs BuildKit: a docker CLI with buildx, or Debian's docker.io (20.10) at /usr/bin/docker"
    mkdir -p "$work/bin"
    ln -s /usr/bin/docker "$work/bin/docker"
    export PATH=$work/bin:$PATH
fi
gs_say "building goal-signals:latest from the Dockerfile (docker-compose build)"
GOAL_SIGNALS_VERSION=$(git describe --tags --always --dirty 2>/dev/null || echo unknown)
export GOAL_SIGNALS_VERSION
build_started=$SECONDS
if ! compose build gateway >"$work/build.log" 2>&1; then
    tail -n 60 "$work/build.log"
    gs_die "the image build failed (last lines above)"
fi
build_seconds=$((SECONDS - build_started))
image_size=$(docker image inspect goal-signals:latest --format '{{.Size}}')
gs_say "built in ${build_seconds} s; goal-signals:latest is $((image_size / 1000000)) MB"

# ---- crashes print symbolicated backtraces: the runtime's backtracer is set up in the image, and the binaries
# keep their symbols and line tables. A SIGSEGV sent to a running receiver shows the backtracer at work.
crash=$(timeout 60 docker run --rm --network none --entrypoint sh goal-signals:latest -c \
    'goals >/dev/null 2>/tmp/err & sleep 2; kill -SEGV $!
     for _ in $(seq 100); do grep -q "^Images" /tmp/err && break; sleep 0.2; done; grep -v "^{" /tmp/err' 2>&1 || true)
if grep -q 'Program crashed' <<<"$crash" && grep -qE '^ +[0-9]+ .* [_A-Za-z][^ ]* \+ [0-9]+ in ' <<<"$crash"; then
    pass "a crashed goals prints a symbolicated backtrace ($(grep -m 1 -E '\[ra\]' <<<"$crash" | sed 's/^ *//'))"
else
    fail "no symbolicated backtrace from a crashed goals: $(head -c 600 <<<"$crash")"
fi
container=$(docker create goal-signals:latest)
docker cp "$container:/usr/local/bin/goals" "$work/goals" >/dev/null
docker rm "$container" >/dev/null
sections=$(readelf -S -W "$work/goals")
if grep -q ' \.symtab ' <<<"$sections" && grep -qE ' \.debug_line .* C ' <<<"$sections"; then
    pass "the binaries keep their symbols and line tables (compressed): files and lines in backtraces"
else
    fail "goals lacks .symtab or a compressed .debug_line"
fi

# ---- the stack
export GATEWAY_PORT PROMETHEUS_PORT
GATEWAY_PORT=$(gs_free_port)
PROMETHEUS_PORT=$(gs_free_port)
services=(redis gateway karaoke goals sessions escrow tracking prometheus)
expected=$((1 + 1 + 1 + GOALS_REPLICAS + SESSIONS_REPLICAS + 1 + 1 + 1))
gs_say "starting the stack: goals=$GOALS_REPLICAS sessions=$SESSIONS_REPLICAS, gateway on 127.0.0.1:$GATEWAY_PORT, Prometheus on 127.0.0.1:$PROMETHEUS_PORT"
compose_up=true
compose up -d --no-build --scale goals=$GOALS_REPLICAS --scale sessions=$SESSIONS_REPLICAS "${services[@]}" >"$work/up.log" 2>&1 \
    || { cat "$work/up.log"; gs_die "docker-compose up failed"; }

# health: every container of every service
health() {
    local id
    for id in $(compose ps -q "${services[@]}"); do
        docker inspect --format '{{.Name}} {{if .State.Health}}{{.State.Health.Status}}{{else}}no-healthcheck{{end}}' "$id"
    done
}
up_started=$SECONDS
while :; do
    health >"$work/health"
    healthy=$(grep -c ' healthy$' "$work/health" || true)
    ((healthy == expected)) && break
    if ((SECONDS - up_started > 180)); then
        cat "$work/health"
        break
    fi
    sleep 1
done
if ((healthy == expected)); then
    pass "all $expected containers healthy in $((SECONDS - up_started)) s (${services[*]}; goals x$GOALS_REPLICAS, sessions x$SESSIONS_REPLICAS)"
else
    fail "$healthy of $expected containers healthy after 180 s"
    exit 1
fi

redis_cli() { # the recipe as written: docker compose exec redis redis-cli … (-T: commands on stdin)
    compose exec -T redis redis-cli "$@"
}

# ---- goals, sessions and escrows, created by hand with Docs/redis-cli.md's recipe
python3 scripts/compose-check.py seed "$GOALS" >"$work/seed.txt"
if redis_cli <"$work/seed.txt" >"$work/seed.out" 2>&1 && ! grep -qv '^[0-9]*$' "$work/seed.out"; then
    pass "created $GOALS goals, sessions and escrows with redis-cli as the operator (docker-compose exec redis redis-cli)"
else
    fail "creating goals with redis-cli: $(grep -v '^[0-9]*$' "$work/seed.out" | sed -n 1,3p)"
fi

# ---- traffic, and a goals replica killed while the vacates arrive
victim=$(compose ps -q goals | sed -n 1p)
victim_name=$(docker inspect --format '{{.Name}}' "$victim")
victim_init=$(docker inspect --format '{{.State.Pid}}' "$victim") # docker-init (init: true); goals is its child
victim_pid=$(cat "/proc/$victim_init/task/$victim_init/children")
victim_pid=${victim_pid%% *}
[[ $victim_pid =~ ^[0-9]+$ ]] || gs_die "cannot find the goals process of ${victim_name#/} (children of pid $victim_init: '$victim_pid')"
at=$(date +%s)
drive_started=$SECONDS
gs_say "driving $GOALS goals (occupy at $((at - 450)), vacate at $at); SIGKILL to ${victim_name#/} (pid $victim_pid) after 3 vacate batches"
check_py drive "$GATEWAY_PORT" "$GOALS" "$at" --kill-after 3 --kill "kill -KILL $victim_pid"

# wait until every chain has run: each goal progressed once, each completed goal ended once, and every group
# has read and acknowledged everything on every stream (XINFO GROUPS: lag and pending 0)
streams=(signal:channel_occupied signal:channel_vacated signal:member_added signal:member_removed
    task:increment_goal_progress signal:goal.progressed signal:goal.completed task:deactivate_goal
    signal:goal.ended task:StartSnapshot)
groups_idle() {
    local out
    out=$(printf 'XINFO GROUPS %s\n' "${streams[@]}" | redis_cli 2>/dev/null) || return 1
    awk '(prev == "pending" || prev == "lag") && $0 ~ /^[1-9]/ { busy = 1 } { prev = $0 } END { exit busy ? 1 : 0 }' <<<"$out"
}
settled() {
    local out
    out=$(printf '%s\n' "XLEN signal:goal.progressed" "XLEN signal:goal.ended" "XLEN outbox:pusher" | redis_cli 2>/dev/null | tr '\n' ' ')
    [[ $out == "$GOALS $((GOALS * 3 / 4)) $((GOALS * 3 / 4)) " ]] && groups_idle
}
while ! settled && ((SECONDS - drive_started < 150)); do sleep 2; done
if settled; then
    pass "every chain ran in $((SECONDS - drive_started)) s (what the killed replica had not acknowledged is claimed after bus.claim.idle.ms, 30 s)"
else
    fail "chains still unfinished after 150 s"
fi
restarts=$(docker inspect --format '{{.RestartCount}} {{.State.Status}}' "$victim")
[[ $restarts == "1 running" ]] && pass "the killed replica was restarted by compose (restart count 1, running)" \
    || fail "the killed replica: restart count and state '$restarts'"

# ---- goalctl through compose: an operator ends a goal (its escrow is refunded), shows it, sends a webhook
goalctl() { # compose's own progress lines go to goalctl.err
    compose run --rm -T goalctl "$@" 2>>"$work/goalctl.err"
}
if out=$(goalctl goal end "$ENDED_GOAL") && grep -q "$ENDED_GOAL" <<<"$out"; then
    pass "goalctl goal end $ENDED_GOAL: $(tail -n 1 <<<"$out")"
else
    fail "goalctl goal end $ENDED_GOAL: $out"
fi
ended_settled() {
    [[ $(printf '%s\n' "HGET 'escrow:{$ENDED_GOAL}' state" | redis_cli 2>/dev/null) == refunded ]] && groups_idle
}
for _ in $(seq 60); do ended_settled && break; sleep 1; done
if out=$(goalctl goal show "$ENDED_GOAL") && grep -q refunded <<<"$out"; then
    pass "goalctl goal show $ENDED_GOAL shows the refunded escrow"
else
    fail "goalctl goal show $ENDED_GOAL: $out"
fi
if out=$(goalctl --version) && grep -qF "$GOAL_SIGNALS_VERSION" <<<"$out"; then
    pass "goalctl --version in the image names the build: $out"
else
    fail "goalctl --version in the image: '$out', expected $GOAL_SIGNALS_VERSION"
fi

# ---- every goal, session and escrow, read with the recipes (one redis-cli, the reads on stdin)
python3 scripts/compose-check.py inspect "$GOALS" >"$work/inspect.txt"
redis_cli <"$work/inspect.txt" >"$work/inspect.out" 2>&1 || true
check_py verify "$GOALS" "$at" "$ENDED_GOAL" <"$work/inspect.out"

# ---- goalctl: nothing is left pending anywhere; its webhooks reach the gateway from its container
status=0
out=$(goalctl lag) || status=$?
if ((status == 0)) && awk 'NR > 1 && ($3 != "0" || $4 != "0") { bad = 1 } END { exit bad ? 1 : 0 }' <<<"$out"; then
    pass "goalctl lag: no group has lag or pending entries on any stream"
else
    fail "goalctl lag (exit $status; $(tail -n 3 "$work/goalctl.err")): $out"
fi
if out=$(goalctl webhook occupy ct-001) && grep -q 'HTTP 200' <<<"$out"; then
    pass "goalctl webhook reaches gateway:8080 from its container: $out"
else
    fail "goalctl webhook occupy ct-001: $out"
fi

# ---- Redis: its own user, no password in clear on its volume
redis_user=$(compose exec -T redis stat -c %U /proc/1 | tr -d '\r')
[[ $redis_user == redis ]] && pass "redis-server runs as the user redis" || fail "redis-server runs as '$redis_user'"
if compose exec -T redis sh -c 'grep -rlE "(admin|gateway|notifier|karaoke|goals|sessions|escrow|tracking|operator)-dev" /data' >/dev/null 2>&1; then
    fail "a password is written in clear under /data"
else
    pass "no password in clear under /data (the ACL lives in the container's /tmp, hashed)"
fi

# ---- Prometheus and the Grafana dashboard
check_py prometheus "$PROMETHEUS_PORT" "$((expected - 2))"
check_py grafana

echo "compose-test: image built in ${build_seconds} s ($((image_size / 1000000)) MB); $GOALS chains through $expected containers" \
    "(goals x$GOALS_REPLICAS, sessions x$SESSIONS_REPLICAS), one goals replica SIGKILLed mid-run; $((SECONDS - started)) s in all"
echo "compose-test: $passed passed, $failed failed"
((failed == 0))
