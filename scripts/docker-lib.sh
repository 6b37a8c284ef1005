# Docker helpers for compose-test.sh: a private Docker engine when none answers, and local stand-ins for the
# official base images when they cannot be pulled. Sourced, not run; needs lib.sh (gs_say, gs_die) first.
# shellcheck shell=bash

# The private engine: its state stays on the machine between runs (so images built or made once are reused),
# its socket and runtime files under /run. Only started when no engine answers.
GS_DOCKER_STATE=${GS_DOCKER_STATE:-/var/lib/goal-signals/docker}
GS_DOCKER_RUN=${GS_DOCKER_RUN:-/run/goal-signals-docker}
GS_DOCKERD_PID=""

# Local stand-ins, tagged so that each is made once per machine; a stand-in whose label names an older recipe
# is made again.
GS_LOCAL_TAG=goal-signals-local
GS_STANDIN_RECIPE=2
GS_DEBIAN_MIRROR=${GS_DEBIAN_MIRROR:-}

# gs_docker_engine: uses the engine DOCKER_HOST (or the default socket) names when it answers, or a private one
# already running; otherwise, as root, starts dockerd with its own data-root, exec-root, socket and pidfile,
# exports DOCKER_HOST for it and sets GS_DOCKERD_PID (gs_docker_engine_stop stops exactly that process).
gs_docker_engine() {
    if docker version --format '{{.Server.Version}}' >/dev/null 2>&1; then
        gs_say "Docker engine $(docker version --format '{{.Server.Version}}') at ${DOCKER_HOST:-the default socket}"
        return
    fi
    local socket=$GS_DOCKER_RUN/docker.sock
    if DOCKER_HOST=unix://$socket docker version >/dev/null 2>&1; then
        export DOCKER_HOST=unix://$socket
        gs_say "Docker engine at $socket (a private one started earlier; left running)"
        return
    fi
    ((EUID == 0)) || gs_die "no Docker engine answers, and starting one needs root"
    command -v dockerd >/dev/null 2>&1 || gs_die "no Docker engine answers and dockerd is not installed (apt-get install docker.io)"
    mkdir -p "$GS_DOCKER_STATE" "$GS_DOCKER_RUN"
    local log=$GS_DOCKER_RUN/dockerd.log
    if [[ -f $GS_DOCKER_RUN/dockerd.pid ]] && kill -0 "$(cat "$GS_DOCKER_RUN/dockerd.pid")" 2>/dev/null; then
        gs_die "a private dockerd (pid $(cat "$GS_DOCKER_RUN/dockerd.pid")) is running but does not answer on $socket"
    fi
    gs_say "starting a private dockerd (data-root $GS_DOCKER_STATE, socket $socket, log $log)"
    dockerd --data-root "$GS_DOCKER_STATE" --exec-root "$GS_DOCKER_RUN/exec" -H "unix://$socket" \
        --pidfile "$GS_DOCKER_RUN/dockerd.pid" >"$log" 2>&1 &
    GS_DOCKERD_PID=$!
    export DOCKER_HOST=unix://$socket
    local waited=0
    until docker version --format '{{.Server.Version}}' >/dev/null 2>&1; do
        if ! kill -0 "$GS_DOCKERD_PID" 2>/dev/null; then
            tail -n 20 "$log" >&2
            GS_DOCKERD_PID=""
            gs_die "dockerd exited at start (log above)"
        fi
        ((waited++ < 300)) || gs_die "dockerd did not answer within 30 s (see $log)"
        sleep 0.1
    done
    gs_say "dockerd $(docker version --format '{{.Server.Version}}') answers (pid $GS_DOCKERD_PID)"
}

# gs_docker_engine_stop: stops the dockerd that gs_docker_engine started, if any, by its pid.
gs_docker_engine_stop() {
    [[ -n $GS_DOCKERD_PID ]] || return 0
    local pid=$GS_DOCKERD_PID waited=0
    GS_DOCKERD_PID=""
    kill -TERM "$pid" 2>/dev/null || return 0
    while kill -0 "$pid" 2>/dev/null && ((waited++ < 300)); do sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
        gs_say "dockerd (pid $pid) still running after 30 s: SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
    gs_say "stopped the private dockerd (pid $pid)"
}

gs_have_image() {
    docker image inspect "$1" >/dev/null 2>&1
}

# gs_have_standin IMAGE: whether IMAGE exists and was made by the current recipe.
gs_have_standin() {
    [[ $(docker image inspect --format '{{index .Config.Labels "goal-signals.standin"}}' "$1" 2>/dev/null) == "$GS_STANDIN_RECIPE" ]]
}

# gs_debian_mirror: the Debian mirror apt uses on this machine (debootstrap and the stand-ins use it too).
gs_debian_mirror() {
    if [[ -n $GS_DEBIAN_MIRROR ]]; then
        printf '%s\n' "$GS_DEBIAN_MIRROR"
        return
    fi
    local mirror
    mirror=$(grep -hoE '(URIs:|deb) +https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null \
        | grep -oE 'https?://[^ ]+' | head -n 1 || true)
    printf '%s\n' "${mirror:-http://deb.debian.org/debian}"
}

# gs_debootstrap DIR [--include=…]: a Debian 12 minbase root in DIR.
gs_debootstrap() {
    local dir=$1
    shift
    command -v debootstrap >/dev/null 2>&1 || gs_die "debootstrap is not installed (apt-get install debootstrap)"
    local log=$dir.log
    if ! debootstrap --variant=minbase "$@" bookworm "$dir" "$(gs_debian_mirror)" >"$log" 2>&1; then
        tail -n 20 "$log" >&2
        gs_die "debootstrap into $dir failed (log above)"
    fi
    rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
}

# gs_import_root DIR IMAGE [--change …]: a one-layer image of the root file system in DIR, labelled with the recipe.
gs_import_root() {
    local dir=$1 image=$2
    shift 2
    tar --numeric-owner -C "$dir" -c . \
        | docker import --change "LABEL goal-signals.standin=$GS_STANDIN_RECIPE" --change 'CMD ["bash"]' "$@" - "$image" >/dev/null
}

# gs_slim_root DIR: apt and dpkg set up as in the official debian:bookworm-slim: no package caches or
# translations kept, no documentation, manuals or locales installed.
gs_slim_root() {
    local dir=$1
    cat >"$dir/etc/apt/apt.conf.d/docker-clean" <<'APT'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT
    printf 'Acquire::Languages "none";\n' >"$dir/etc/apt/apt.conf.d/docker-no-languages"
    cat >"$dir/etc/dpkg/dpkg.cfg.d/docker" <<'DPKG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
DPKG
    rm -f "$dir"/var/cache/apt/*.bin
}

# gs_base_image OFFICIAL: prints the image to build FROM in place of OFFICIAL: OFFICIAL itself when it is on
# the engine (or, with COMPOSE_TEST_PULL=1, when a pull succeeds), else a local stand-in, made on first use.
gs_base_image() {
    local official=$1
    if gs_have_image "$official"; then
        printf '%s\n' "$official"
        return
    fi
    if [[ ${COMPOSE_TEST_PULL:-0} == 1 ]] && timeout 120 docker pull -q "$official" >/dev/null 2>&1; then
        printf '%s\n' "$official"
        return
    fi
    local standin=$GS_LOCAL_TAG/${official##*/}
    [[ $standin == *:* ]] || standin=$standin:latest
    if ! gs_have_standin "$standin"; then
        local started=$SECONDS
        gs_say "making $standin in place of $official (once per machine)" >&2
        case $official in
            debian:*) gs_make_debian "$standin" ;;
            swift:*) gs_make_swift "$standin" ;;
            redis:*) gs_make_from_debian "$standin" redis ;;
            */prometheus*) gs_make_from_debian "$standin" prometheus ;;
            *) gs_die "no local stand-in for $official" ;;
        esac
        gs_say "made $standin in $((SECONDS - started)) s" >&2
    fi
    printf '%s\n' "$standin"
}

gs_make_debian() {
    local dir
    dir=$(mktemp -d "${TMPDIR:-/tmp}/goal-signals-debian.XXXXXX")
    gs_debootstrap "$dir/root"
    gs_slim_root "$dir/root"
    gs_import_root "$dir/root" "$1"
    rm -rf "$dir"
}

# The official swift:6.3-bookworm image's packages, the toolchain of this machine, its local copies of the
# Swift packages and git's insteadOf settings that point SwiftPM at them.
gs_make_swift() {
    local swift_root=${GS_SWIFT_ROOT:-/opt/swift} dir
    [[ -x $swift_root/usr/bin/swift ]] || gs_die "no Swift toolchain at $swift_root (GS_SWIFT_ROOT names another)"
    dir=$(mktemp -d "${TMPDIR:-/tmp}/goal-signals-swift.XXXXXX")
    gs_debootstrap "$dir/root" --include=binutils,git,gnupg2,libc6-dev,libcurl4-openssl-dev,libedit2,libgcc-12-dev,libncurses6,libpython3.11,libsqlite3-0,libstdc++-12-dev,libxml2-dev,libz3-dev,pkg-config,tzdata,zlib1g-dev,ca-certificates
    mkdir -p "$dir/root/opt"
    cp -a "$swift_root" "$dir/root/opt/swift"
    local from to copies=()
    while IFS='=' read -r from to; do
        from=${from#url.}
        from=${from%.insteadof}
        [[ -d $from ]] && copies+=("$from")
        git config -f "$dir/root/etc/gitconfig" --add "url.$from.insteadOf" "$to"
    done < <(git config --system --get-regexp '^url\..*\.insteadof$' | sed 's/ /=/')
    local copy
    for copy in $(printf '%s\n' ${copies[@]+"${copies[@]}"} | sort -u); do
        mkdir -p "$dir/root$(dirname "$copy")"
        cp -a "$copy" "$dir/root$copy"
    done
    printf 'PATH=/opt/swift/usr/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n' >"$dir/root/etc/environment"
    gs_import_root "$dir/root" "$1" --change 'ENV PATH=/opt/swift/usr/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
    rm -rf "$dir"
}

# gs_make_from_debian IMAGE redis|prometheus: the server from Debian's package on the local Debian base, laid
# out as the official image is (user, data folder, entrypoint), so docker-compose.yml uses either unchanged.
gs_make_from_debian() {
    local image=$1 kind=$2 base
    base=$(gs_base_image debian:bookworm-slim)
    local dockerfile
    case $kind in
        redis)
            # As redis:7: user redis (uid 999), /data owned by it and the working folder, redis-server on PATH.
            dockerfile="FROM $base
LABEL goal-signals.standin=$GS_STANDIN_RECIPE
RUN groupadd --system --gid 999 redis && useradd --system --uid 999 --gid redis --home-dir /data redis \\
 && apt-get update && apt-get install -y --no-install-recommends redis-server redis-tools \\
 && rm -rf /var/lib/apt/lists/* && mkdir -p /data && chown redis:redis /data
WORKDIR /data
VOLUME /data
EXPOSE 6379
CMD [\"redis-server\"]"
            ;;
        prometheus)
            # As prom/prometheus: /bin/prometheus as entrypoint, user nobody, /prometheus its data folder, a wget.
            dockerfile="FROM $base
LABEL goal-signals.standin=$GS_STANDIN_RECIPE
RUN apt-get update && apt-get install -y --no-install-recommends prometheus wget \\
 && rm -rf /var/lib/apt/lists/* && mkdir -p /prometheus /etc/prometheus && chown nobody:nogroup /prometheus
USER nobody
WORKDIR /prometheus
VOLUME /prometheus
EXPOSE 9090
ENTRYPOINT [\"/bin/prometheus\"]
CMD [\"--config.file=/etc/prometheus/prometheus.yml\", \"--storage.tsdb.path=/prometheus\"]"
            ;;
    esac
    local log
    log=$(mktemp "${TMPDIR:-/tmp}/goal-signals-$kind-image.XXXXXX")
    if ! printf '%s\n' "$dockerfile" | docker build -q -t "$image" - >"$log" 2>&1; then
        tail -n 30 "$log" >&2
        gs_die "building $image failed (log above)"
    fi
    rm -f "$log"
}
