#!/usr/bin/env bash
# Installs the Debian packages that building, running and testing goal-signals need, when they are missing.
#
#   scripts/deps.sh           install what is missing (as root, or through sudo)
#   scripts/deps.sh --check   only report; exit 1 when something is missing
#   scripts/deps.sh --also PACKAGE:COMMAND ...
#                             the same, with more packages a tool needs (valgrind:valgrind for redis-cost.sh)
#
# Quiet when everything is there. Swift itself comes with the machine (/opt/swift) and is not installed here.
set -euo pipefail

check_only=false
also=()
while (($# > 0)); do
    case "$1" in
        --check) check_only=true ;;
        --also)
            [[ ${2:-} == *:* ]] || { echo "deps: --also needs PACKAGE:COMMAND (COMMAND may be empty)" >&2; exit 2; }
            also+=("$2")
            shift
            ;;
        -h | --help)
            sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        *)
            echo "deps: unknown argument '$1' (use --check, --also PACKAGE:COMMAND or nothing)" >&2
            exit 2
            ;;
    esac
    shift
done

# package:command — a package counts as present when dpkg says it is installed, or, for those that
# provide a command, when that command is already on PATH (installed some other way).
wanted=(
    "libhiredis-dev:"
    "libjemalloc-dev:"
    "pkg-config:pkg-config"
    "redis-server:redis-server"
    "redis-tools:redis-cli"
    "docker-compose:docker-compose"
    "curl:curl"
    ${also[@]+"${also[@]}"}
)

installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

missing=()
for entry in "${wanted[@]}"; do
    package=${entry%%:*}
    command=${entry#*:}
    if installed "$package"; then continue; fi
    if [[ -n $command ]] && command -v "$command" >/dev/null 2>&1; then continue; fi
    missing+=("$package")
done

((${#missing[@]} == 0)) && exit 0

if $check_only; then
    echo "deps: missing: ${missing[*]}" >&2
    exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "deps: missing ${missing[*]}, and apt-get is not available: install them with your system's package manager" >&2
    exit 1
fi

as_root=()
if ((EUID != 0)); then
    if command -v sudo >/dev/null 2>&1; then
        as_root=(sudo)
    else
        echo "deps: missing ${missing[*]}: run this script as root (no sudo here)" >&2
        exit 1
    fi
fi

echo "deps: installing ${missing[*]} (apt-get, --no-install-recommends)"
# apt's output is shown only when a step fails.
if ! output=$("${as_root[@]}" apt-get update -qq 2>&1); then
    printf '%s\n' "$output" >&2
    echo "deps: apt-get update failed; trying the install with the package lists already on this machine" >&2
fi
if ! output=$("${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}" 2>&1); then
    printf '%s\n' "$output" >&2
    echo "deps: apt-get install ${missing[*]} failed" >&2
    exit 1
fi

# Confirm: a package apt reported as installed but that is still not usable is an error worth naming.
still=()
for package in "${missing[@]}"; do
    installed "$package" || still+=("$package")
done
if ((${#still[@]} > 0)); then
    echo "deps: still missing after apt-get install: ${still[*]}" >&2
    exit 1
fi
