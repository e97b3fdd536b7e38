#!/usr/bin/env bash
# Run the standard gRPC interop test cases between gust and independent peers,
# in both directions, and write interop/MATRIX.md from the results.
#
#   peers:      gust (target/debug/interop-{server,client}),
#               grpcio (interop/python, in <repo>/.venv),
#               grpc-js (interop/node, in interop/node/node_modules)
#   directions: gust client -> peer server, and peer client -> gust server
#               (gust <-> gust runs once and appears in both tables)
#
# Each server starts once per (peer, direction) on an ephemeral port (it is
# given --port 0 and prints `listening on PORT`); every case then runs as one
# client process with a bounded time. A client exits 0 on pass, 1 on failure,
# 77 when its stack cannot express the case ("n/a: why" on stdout); a pass that
# could only check part of the case prints "partial: what was not checked".
# Cases a peer *server* cannot serve are listed in server_na below.
#
# Exits non-zero when any cell that is not n/a failed; every failing client's
# output (and the server log's tail) is printed. Needs no stdin.
#
# Environment:
#   INTEROP_CLIENT_TIMEOUT   seconds one client run may take (default 60)
#   INTEROP_SOAK_ITERATIONS  --soak_iterations for rpc_soak/channel_soak (default 10)
#   INTEROP_CASES            space-separated subset of cases to run (default: all)
#   INTEROP_NO_MATRIX=1      do not rewrite interop/MATRIX.md
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"

client_timeout="${INTEROP_CLIENT_TIMEOUT:-60}"
soak_iterations="${INTEROP_SOAK_ITERATIONS:-10}"
target_dir="${CARGO_TARGET_DIR:-$repo/target}"
matrix="$repo/interop/MATRIX.md"

all_cases=(
    empty_unary large_unary client_streaming server_streaming ping_pong empty_stream
    custom_metadata status_code_and_message special_status_message
    unimplemented_method unimplemented_service
    cancel_after_begin cancel_after_first_response timeout_on_sleeping_server
    client_compressed_unary server_compressed_unary
    client_compressed_streaming server_compressed_streaming
    rpc_soak channel_soak
)
if [[ -n "${INTEROP_CASES:-}" ]]; then
    read -r -a cases <<<"$INTEROP_CASES"
else
    cases=("${all_cases[@]}")
fi
peers=(gust grpcio grpc-js)

# Why a peer *server* cannot serve a case (empty: it can). The peer clients say
# for themselves (exit 77) what they cannot express.
server_na() { # peer case
    case "$1:$2" in
        grpcio:client_compressed_unary | grpcio:client_compressed_streaming)
            echo "grpcio's server cannot tell whether a request was compressed (it hides the per-message flag and the grpc-encoding header), so it cannot serve expect_compressed" ;;
        grpc-js:client_compressed_unary | grpc-js:client_compressed_streaming)
            echo "grpc-js's server cannot tell whether a request was compressed (it hides the per-message flag and the grpc-encoding header), so it cannot serve expect_compressed" ;;
        grpc-js:server_compressed_unary | grpc-js:server_compressed_streaming)
            echo "grpc-js's server cannot compress responses" ;;
    esac
}

server_cmd() { # peer -> sets cmd=()
    case "$1" in
        gust) cmd=("$target_dir/debug/interop-server" --port 0) ;;
        grpcio) cmd=("$repo/.venv/bin/python" "$repo/interop/python/server.py" --port 0) ;;
        grpc-js) cmd=(node "$repo/interop/node/server.js" --port 0) ;;
        *) echo "interop: unknown peer $1" >&2; exit 2 ;;
    esac
}

client_cmd() { # peer port case -> sets cmd=()
    local args=(--server_host 127.0.0.1 --server_port "$2" --test_case "$3")
    if [[ "$3" == *_soak ]]; then args+=(--soak_iterations "$soak_iterations"); fi
    case "$1" in
        gust) cmd=("$target_dir/debug/interop-client" "${args[@]}") ;;
        grpcio) cmd=("$repo/.venv/bin/python" "$repo/interop/python/client.py" "${args[@]}") ;;
        grpc-js) cmd=(node "$repo/interop/node/client.js" "${args[@]}") ;;
        *) echo "interop: unknown peer $1" >&2; exit 2 ;;
    esac
}

work="$(mktemp -d "${TMPDIR:-/tmp}/gust-interop.XXXXXX")"
server_pid=""
server_port=""
server_log=""
server_peer=""

stop_server() {
    [[ -n "$server_pid" ]] || return 0
    if kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        local i
        for ((i = 0; i < 50; i++)); do
            kill -0 "$server_pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$server_pid" 2>/dev/null; then
            echo "interop: $server_peer server did not stop on SIGTERM within 5 s; killing it" >&2
            kill -KILL "$server_pid" 2>/dev/null || true
        fi
    fi
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
}
trap 'stop_server; rm -rf "$work"' EXIT

server_starts=0
start_server() { # peer
    server_peer="$1"
    server_starts=$((server_starts + 1))
    server_log="$work/server-$1-$server_starts.log"
    local cmd
    server_cmd "$1"
    # Created here, not by the background job's redirection, which may not
    # have run yet when the loop below first reads the file.
    : >"$server_log"
    "${cmd[@]}" </dev/null >"$server_log" 2>&1 &
    server_pid=$!
    server_port=""
    local i
    for ((i = 0; i < 300; i++)); do
        server_port="$(sed -n 's/^listening on \([0-9][0-9]*\)$/\1/p' "$server_log" | head -n1)"
        [[ -n "$server_port" ]] && return 0
        if ! kill -0 "$server_pid" 2>/dev/null; then
            break
        fi
        sleep 0.1
    done
    echo "interop: the $1 server did not print 'listening on PORT' (command: ${cmd[*]}); its output:" >&2
    sed 's/^/    | /' "$server_log" >&2
    stop_server
    return 1
}

declare -A result note
failures=()
notes=()

declare -A ref

# Give every distinct note a footnote number, in table order (in this shell:
# the table is rendered in subshells, which cannot add to notes).
assign_notes() {
    local dir tc peer key i found
    for dir in c2s s2c; do
        for tc in "${cases[@]}"; do
            for peer in "${peers[@]}"; do
                key="$dir|$peer|$tc"
                [[ "${result[$key]:-}" == partial || "${result[$key]:-}" == n/a ]] || continue
                found=""
                for i in "${!notes[@]}"; do
                    if [[ "${notes[$i]}" == "${note[$key]}" ]]; then found=$((i + 1)); break; fi
                done
                if [[ -z "$found" ]]; then
                    notes+=("${note[$key]}")
                    found="${#notes[@]}"
                fi
                ref[$key]="$found"
            done
        done
    done
}

# run_cell DIRECTION CLIENT_PEER SERVER_PEER CASE: records result[DIRECTION|PEER|CASE].
run_cell() {
    local dir="$1" cpeer="$2" speer="$3" tc="$4" peer key
    if [[ "$dir" == c2s ]]; then peer="$speer"; else peer="$cpeer"; fi
    key="$dir|$peer|$tc"
    local why
    why="$(server_na "$speer" "$tc")"
    if [[ -n "$why" ]]; then
        result[$key]="n/a"
        note[$key]="$why"
        printf '  %-30s n/a (%s)\n' "$tc" "$why"
        return
    fi
    if ! kill -0 "$server_pid" 2>/dev/null; then
        echo "  the $speer server is gone; its log:" >&2
        sed 's/^/    | /' "$server_log" >&2
        failures+=("$(label "$dir" "$peer") / $tc: the $speer server had exited before this case (restarted)")
        stop_server
        start_server "$speer" || { result[$key]="fail"; note[$key]="server would not restart"; return; }
    fi
    local out="$work/client-$dir-$peer-$tc.out" rc=0 cmd
    client_cmd "$cpeer" "$server_port" "$tc"
    local log_lines_before
    log_lines_before="$(wc -l <"$server_log")"
    timeout -k 5 "$client_timeout" "${cmd[@]}" </dev/null >"$out" 2>&1 || rc=$?
    case "$rc" in
        0)
            if grep -q '^partial: ' "$out"; then
                result[$key]="partial"
                note[$key]="$(sed -n 's/^partial: //p' "$out" | head -n1)"
                printf '  %-30s pass (partial)\n' "$tc"
            else
                result[$key]="pass"
                printf '  %-30s pass\n' "$tc"
            fi
            ;;
        77)
            result[$key]="n/a"
            note[$key]="$(sed -n 's/^n\/a: //p' "$out" | head -n1)"
            printf '  %-30s n/a (%s)\n' "$tc" "${note[$key]}"
            ;;
        *)
            local why_failed
            if ((rc == 124 || rc == 137)); then
                why_failed="timed out after ${client_timeout} s"
            else
                why_failed="$(grep -v '^[[:space:]]*$' "$out" | tail -n1 | cut -c1-400)"
                [[ -n "$why_failed" ]] || why_failed="exit status $rc, no output"
            fi
            result[$key]="fail"
            note[$key]="$why_failed"
            failures+=("$(label "$dir" "$peer") / $tc: $why_failed")
            printf '  %-30s FAIL (exit %s)\n' "$tc" "$rc"
            {
                echo "  ---- $cpeer client output ($tc, exit $rc): ${cmd[*]}"
                sed 's/^/    | /' "$out"
                echo "  ---- $speer server log since this case started:"
                local since
                since="$(tail -n +"$((log_lines_before + 1))" "$server_log" | tail -n 40)"
                # shellcheck disable=SC2001
                if [[ -n "$since" ]]; then sed 's/^/    | /' <<<"$since"; else echo "    (nothing)"; fi
                echo "  ----"
            } >&2
            ;;
    esac
}

label() { # direction peer
    if [[ "$1" == c2s ]]; then echo "gust client -> $2 server"; else echo "$2 client -> gust server"; fi
}

echo "interop: setting up peers" >&2
bash "$repo/scripts/setup-python.sh" </dev/null
bash "$repo/scripts/setup-node.sh" </dev/null
echo "interop: cargo build -p gust-interop --bins" >&2
cargo build -p gust-interop --bins </dev/null

started="$(date -u '+%Y-%m-%d %H:%M UTC')"

# gust client -> peer server (peer = gust is gust <-> gust).
for peer in "${peers[@]}"; do
    echo "== gust client -> $peer server"
    start_server "$peer"
    echo "   ($peer server on port $server_port)"
    for tc in "${cases[@]}"; do run_cell c2s gust "$peer" "$tc"; done
    stop_server
done

# peer client -> gust server; gust <-> gust was run above.
echo "== peer clients -> gust server"
start_server gust
echo "   (gust server on port $server_port)"
for peer in "${peers[@]}"; do
    [[ "$peer" == gust ]] && continue
    echo "-- $peer client -> gust server"
    for tc in "${cases[@]}"; do run_cell s2c "$peer" gust "$tc"; done
done
stop_server
for tc in "${cases[@]}"; do
    result["s2c|gust|$tc"]="${result["c2s|gust|$tc"]}"
    note["s2c|gust|$tc"]="${note["c2s|gust|$tc"]:-}"
done

# ---------------------------------------------------------------- MATRIX.md
passed=0 partial=0 failed=0 na=0
cell() { # key -> markdown cell text
    local r="${result[$1]:-}"
    case "$r" in
        pass) echo "pass" ;;
        partial) echo "pass, partial [${ref[$1]}]" ;;
        n/a) echo "n/a [${ref[$1]}]" ;;
        fail) echo "**FAIL**" ;;
        *) echo "not run" ;;
    esac
}
count() {
    local dir key
    for dir in c2s s2c; do
        for peer in "${peers[@]}"; do
            [[ "$dir" == s2c && "$peer" == gust ]] && continue # counted once
            for tc in "${cases[@]}"; do
                key="$dir|$peer|$tc"
                case "${result[$key]:-}" in
                    pass) passed=$((passed + 1)) ;;
                    partial) passed=$((passed + 1)); partial=$((partial + 1)) ;;
                    n/a) na=$((na + 1)) ;;
                    fail) failed=$((failed + 1)) ;;
                esac
            done
        done
    done
}
count
assign_notes

table() { # direction
    local dir="$1" tc peer row
    printf '| case | %s |\n' "$(
        for peer in "${peers[@]}"; do
            if [[ "$dir" == c2s ]]; then printf '%s server | ' "$peer"; else printf '%s client | ' "$peer"; fi
        done | sed 's/ | $//'
    )"
    printf '|---|%s\n' "$(for peer in "${peers[@]}"; do printf -- '---|'; done)"
    for tc in "${cases[@]}"; do
        row="| $tc |"
        for peer in "${peers[@]}"; do row+=" $(cell "$dir|$peer|$tc") |"; done
        echo "$row"
    done
}

describe_machine() {
    local rev dirty=""
    rev="$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)"
    if [[ -n "$(git -C "$repo" status --porcelain 2>/dev/null)" ]]; then dirty=" + uncommitted changes"; fi
    echo "- gust: commit $rev$dirty, debug build; $(rustc --version 2>/dev/null || echo 'rustc ?')"
    echo "- grpcio $("$repo/.venv/bin/python" -c 'import grpc; print(grpc.__version__)') on Python $("$repo/.venv/bin/python" -c 'import platform; print(platform.python_version())')"
    echo "- @grpc/grpc-js $(node -p 'require(process.argv[1]).version' "$repo/interop/node/node_modules/@grpc/grpc-js/package.json") on Node.js $(node --version)"
    echo "- $(uname -srm), $(nproc) cores"
}

if [[ "${INTEROP_NO_MATRIX:-}" != 1 ]]; then
    {
        echo "# gust interoperability matrix"
        echo
        echo "Generated by \`scripts/interop.sh\` on $started; do not edit by hand."
        echo "It runs the standard gRPC interop test cases (doc/interop-test-descriptions.md"
        echo "of the gRPC project) over plaintext HTTP/2 on 127.0.0.1, on:"
        echo
        describe_machine
        echo
        echo "Result: $passed passed ($partial of them partial), $failed failed, $na n/a."
        echo
        echo "\"pass, partial\" means the client ran the case and checked everything its stack"
        echo "lets it see; the note says what it could not check. \"n/a\" means one side's"
        echo "stack cannot express the case at all; the note says which and why."
        echo "gust <-> gust is run once and shown in both tables."
        echo
        echo "## gust client → peer server"
        echo
        table c2s
        echo
        echo "## peer client → gust server"
        echo
        table s2c
        echo
        if ((${#notes[@]} > 0)); then
            echo "## Notes"
            echo
            for i in "${!notes[@]}"; do echo "$((i + 1)). ${notes[$i]}"; done
            echo
        fi
        if ((${#failures[@]} > 0)); then
            echo "## Failures"
            echo
            for f in "${failures[@]}"; do printf -- '- %s\n' "${f//|/\\|}"; done
            echo
        fi
    } >"$matrix.tmp"
    mv "$matrix.tmp" "$matrix"
    echo "interop: wrote ${matrix#"$repo/"}"
fi

if ((${#failures[@]} > 0)); then
    echo
    echo "interop: FAILED cells:"
    for f in "${failures[@]}"; do echo "  - $f"; done
fi
echo "interop: $passed passed, $failed failed, $na skipped"
if ((failed > 0 || ${#failures[@]} > 0)); then
    exit 1
fi
