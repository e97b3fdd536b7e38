#!/usr/bin/env bash
# Profiles bench-gust-server under load and tells where its time goes:
# the hottest functions, and the split between h2, tokio (with the kernel's
# socket work) and gust's own code.
#
#   benches/rust/profile.sh [a|c|d]
#
#   a (default): scenario (a) of run.sh, unary 100-byte echo, h2load 50 x 20
#   c: server streaming of 16-byte messages, read by the bare h2 reader
#   d: unary 1 MiB echo, h2load 4 x 4
#
# Uses `perf record -e cpu-clock` (a software clock, which works where the
# hardware counters are "not supported") with DWARF call stacks, so inlined
# frames are named. Without a usable perf it falls back to
# `valgrind --tool=callgrind` on a shorter run (instructions, not time).
# Knobs: PROFILE_SECONDS [6], PROFILE_FREQUENCY [999], BENCH_WORKERS [2],
# PROFILE_TOP [25]. Run benches/run.sh (or its cargo build) first.
set -euo pipefail

# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
common_setup profile
SCENARIO=${1:-a}
SECONDS_=${PROFILE_SECONDS:-6}
FREQUENCY=${PROFILE_FREQUENCY:-999}
WORKERS=${BENCH_WORKERS:-2}
TOP=${PROFILE_TOP:-25}
PORT=${BENCH_PORT:-21061}

need h2load nghttp2-client
need perf linux-perf
"$BIN/bench-client" body --size 100 --framed >"$WORK/body-100"
"$BIN/bench-client" body --size 1048576 --framed >"$WORK/body-1m"

# load SECONDS: the scenario's load for about SECONDS.
load() {
    case $SCENARIO in
        a) h2load -c 50 -m 20 -t 1 -D "$1" -d "$WORK/body-100" -H 'content-type: application/grpc' -H 'te: trailers' \
            "http://127.0.0.1:$PORT/bench.Echo/Unary" | grep -E '^finished|^requests' ;;
        c) local end=$(($(date +%s) + $1))
            while (($(date +%s) < end)); do
                "$BIN/bench-client" stream --impl h2 --target "http://127.0.0.1:$PORT" --count 300000 --size 16
            done ;;
        d) h2load -c 4 -m 4 -t 1 -D "$1" -d "$WORK/body-1m" -H 'content-type: application/grpc' -H 'te: trailers' \
            "http://127.0.0.1:$PORT/bench.Echo/Unary" | grep -E '^finished|^requests' ;;
        *) echo "unknown scenario $SCENARIO (a, c or d)" >&2; exit 2 ;;
    esac
}

if perf record -q -e cpu-clock -o "$WORK/probe.data" -- true >/dev/null 2>&1; then
    start_server "$BIN/bench-gust-server" --addr "127.0.0.1:$PORT" --workers "$WORKERS"
    load 1 >/dev/null # warm-up
    perf record -q -e cpu-clock -F "$FREQUENCY" --call-graph dwarf,16384 -p "$SERVER_PID" -o "$WORK/perf.data" \
        -- sleep $((SECONDS_ + 1)) 2>/dev/null &
    record=$!
    sleep 0.5
    echo "load during the profile:"
    load "$SECONDS_"
    wait $record || true
    echo
    perf script -i "$WORK/perf.data" -F comm,ip,sym,dso 2>/dev/null | python3 "$ROOT/benches/rust/profile_attribute.py" "$TOP"
else
    echo "perf cannot sample here; falling back to callgrind (instruction counts, one worker)"
    start_server valgrind --tool=callgrind --callgrind-out-file="$WORK/callgrind.out" \
        "$BIN/bench-gust-server" --addr "127.0.0.1:$PORT" --workers 1
    case $SCENARIO in
        a) h2load -c 50 -m 20 -t 1 -n 20000 -d "$WORK/body-100" -H 'content-type: application/grpc' \
            -H 'te: trailers' "http://127.0.0.1:$PORT/bench.Echo/Unary" | grep -E '^finished|^requests' ;;
        c) "$BIN/bench-client" stream --impl h2 --target "http://127.0.0.1:$PORT" --count 100000 --size 16 ;;
    esac
    kill "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
    callgrind_annotate --inclusive=no "$WORK/callgrind.out" 2>/dev/null | head -$((TOP + 25))
fi
