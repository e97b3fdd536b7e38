#!/usr/bin/env bash
# Counts the instructions each peer spends per call (or per streamed
# message), under callgrind, and splits them by the crate whose code ran.
#
#   benches/rust/instructions.sh [a|c|e ...]    (default: a c e)
#
#   a: each server (gust, tonic, raw h2, and h2's codec alone) answering
#      20,000 unary 100-byte echoes from h2load (50 connections x 20
#      streams): per call
#   c: each server streaming 200,000 16-byte messages to the bare h2
#      reader, then gust's and tonic's clients reading them from the raw h2
#      server (not counted): per message
#   e: gust's and tonic's clients making 20,000 calls, 64 in flight, on the
#      gust server (not counted): per call
#
# Instructions, unlike seconds, do not depend on what else the machine is
# doing: two runs of the same binaries give the same figures within a
# fraction of a percent, so small changes show even on a noisy machine.
# They do not count time lost to the kernel, to waiting or to cache misses:
# benches/run.sh measures that. Servers run one worker thread under
# valgrind. Run benches/run.sh (or its cargo build) first.
set -euo pipefail

# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
common_setup instructions
PORT=${BENCH_PORT:-21071}

need h2load nghttp2-client
need valgrind valgrind
"$BIN/bench-client" body --size 100 --framed >"$WORK/body-100"

# start PROGRAM ARGS...: a server on PORT with one worker.
start() {
    start_server "$@" --addr "127.0.0.1:$PORT" --workers 1
}

stop() {
    kill "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
}

# summarise OUT UNITS PEER: one line of the table.
summarise() {
    callgrind_annotate --auto=no --inclusive=no --threshold=100 "$1" 2>/dev/null |
        python3 "$ROOT/benches/rust/instructions_by_crate.py" "$2" "$3"
}

header() {
    echo
    echo "$1"
    python3 "$ROOT/benches/rust/instructions_by_crate.py" --header
}

SCENARIOS=("$@")
((${#SCENARIOS[@]})) || SCENARIOS=(a c e)
for s in "${SCENARIOS[@]}"; do
    case $s in
        a) header "(a) instructions per unary call, by crate"
            for peer in gust tonic h2 codec; do
                start valgrind --tool=callgrind --callgrind-out-file="$WORK/$peer.out" "$BIN/bench-$peer-server"
                h2load -c 50 -m 20 -t 1 -n 20000 -d "$WORK/body-100" -H 'content-type: application/grpc' \
                    -H 'te: trailers' "http://127.0.0.1:$PORT/bench.Echo/Unary" >/dev/null
                stop
                summarise "$WORK/$peer.out" 20000 "$peer server"
            done ;;
        c) header "(c) instructions per streamed 16-byte message, by crate"
            for peer in gust tonic h2; do
                start valgrind --tool=callgrind --callgrind-out-file="$WORK/$peer.out" "$BIN/bench-$peer-server"
                "$BIN/bench-client" stream --impl h2 --target "http://127.0.0.1:$PORT" --count 200000 --size 16 >/dev/null
                stop
                summarise "$WORK/$peer.out" 200000 "$peer server"
            done
            start "$BIN/bench-h2-server"
            for peer in gust tonic; do
                valgrind --tool=callgrind --callgrind-out-file="$WORK/$peer-reader.out" "$BIN/bench-client" stream \
                    --impl "$peer" --target "http://127.0.0.1:$PORT" --count 200000 --size 16 >/dev/null 2>&1
                summarise "$WORK/$peer-reader.out" 200000 "$peer client"
            done
            stop ;;
        e) header "(e) instructions per unary call of the client, by crate"
            start "$BIN/bench-gust-server"
            for peer in gust tonic; do
                valgrind --tool=callgrind --callgrind-out-file="$WORK/$peer-client.out" "$BIN/bench-client" unary \
                    --impl "$peer" --target "http://127.0.0.1:$PORT" --concurrency 64 --requests 20000 --warmup 0 \
                    >/dev/null 2>&1
                summarise "$WORK/$peer-client.out" 20000 "$peer client"
            done
            stop ;;
        *) echo "unknown scenario $s (a, c or e)" >&2; exit 2 ;;
    esac
done
