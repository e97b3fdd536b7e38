# Shared by profile.sh and instructions.sh (sourced, not run): a scratch
# directory and the server they start, both removed on exit, and tools
# installed from Debian on first use.
#
#   common_setup NAME    sets ROOT, BIN, WORK (a fresh mktemp directory) and
#                        SERVER_PID, and traps EXIT to clean them up
#   need TOOL PACKAGE    installs PACKAGE when TOOL is not on the PATH (after
#                        an apt-get update: a fresh machine has no lists)
#   start_server PROGRAM ARGS...
#                        starts a server (its log in WORK/server.log) and
#                        waits until it says it is listening

common_setup() {
    ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
    BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/gust-$1.XXXXXX")
    SERVER_PID=
    trap common_cleanup EXIT
}

common_cleanup() {
    [[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
    rm -rf "$WORK"
}

need() {
    command -v "$1" >/dev/null || { apt-get update -qq && apt-get install -y -qq "$2" >/dev/null; }
}

start_server() {
    "$@" >"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 600); do
        grep -q listening "$WORK/server.log" && return 0
        sleep 0.1
    done
    echo "server did not start: $*" >&2
    exit 1
}
