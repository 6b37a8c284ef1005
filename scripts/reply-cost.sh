#!/usr/bin/env bash
# What reading a stream entry costs the client, with hiredis's own reply objects and with the connection's
# reply arena (Sources/CReplyArena): builds scripts/reply-cost.c against hiredis, the arena and jemalloc (the
# services' allocator), runs it
# against a redis-server of its own on a free loopback port (no persistence), and stops the server.
#
#   scripts/reply-cost.sh [ROUNDS]
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
GS_NAME=reply-cost
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

gs_require redis-server redis-cli
# The C compiler: CC, else cc, else the clang that comes with the Swift toolchain.
compiler=${CC:-$(command -v cc || command -v clang || true)}
[[ -n $compiler ]] || gs_die "no C compiler: set CC, or install one (cc or clang)"
work=$(mktemp -d "${TMPDIR:-/tmp}/goal-signals-reply-cost.XXXXXX")
redis_pid=""
cleanup() {
    [[ -z $redis_pid ]] || gs_stop_processes 10 "redis-server=$redis_pid"
    rm -rf "$work"
}
trap cleanup EXIT

"$compiler" -O2 -Wall -Werror -ISources/CReplyArena/include scripts/reply-cost.c Sources/CReplyArena/reply_arena.c -lhiredis \
    -ljemalloc -o "$work/reply-cost"
port=$(gs_free_port)
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" --loglevel warning </dev/null >"$work/redis.log" 2>&1 &
redis_pid=$!
gs_wait_until 50 gs_pong "$port" || gs_die "redis-server did not start on port $port"
"$work/reply-cost" "$port" "${1:-400}"
