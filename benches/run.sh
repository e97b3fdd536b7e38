#!/usr/bin/env bash
# Side-by-side benchmarks of gust, tonic and a raw h2 server (the h2
# crate's limit), written to benches/reports/rust.md. Scenario (a) also runs
# the raw server's answer on h2's frame codec alone (bench-codec-server):
# about the cost of HTTP/2 without h2's connection machinery, which gust's
# own engine does without too.
#
#   benches/run.sh
#
# Builds the release binaries, installs h2load (Debian's nghttp2-client) if
# it is missing, then runs each scenario in rounds, alternating the servers
# within every round, and reports medians with ratios and the issue's targets:
#
#   (a) unary 100-byte echo, h2load 50 connections x 20 streams: req/s
#   (b) unary at concurrency 1 (h2load -c1 -m1): mean and p99 latency
#   (c) server streaming of 1,000,000 16-byte messages: messages/s
#   (d) unary 1 MiB messages: MB/s
#   (e) client cost: gust's vs tonic's client on the gust server, 64 calls in
#       flight: req/s and CPU seconds per 100k calls
#   (f) 10,000 idle HTTP/2 connections: server RSS
#
# Also checked: `gust bench` against h2load on (a).
#
# Everything runs on 127.0.0.1, each load bounded in count and time. Knobs
# (environment variables, defaults in brackets):
#   BENCH_ROUNDS [5]            rounds per scenario (the median is reported); at 3 the
#                               verdicts of (a), (c) and (e) flipped between runs
#   BENCH_DURATION [5]          seconds of each h2load run, after
#   BENCH_WARMUP [1]            seconds of warm-up
#   BENCH_STREAM_COUNT [1000000] messages per streaming call
#   BENCH_CLIENT_REQUESTS [200000] calls per client-cost run
#   BENCH_IDLE_CONNECTIONS [10000]
#   BENCH_WORKERS [2]           worker threads of every server
#   BENCH_SCENARIOS ["a b c d e f"]
#   BENCH_PORT [21051]          first of the four server ports (keep them below
#                               the ephemeral range: a client's closed socket in
#                               TIME_WAIT on a server's port would block its bind)
#   BENCH_REPORT [benches/reports/rust.md]
#   BENCH_SKIP_BUILD [unset]    use the binaries already built
# With the defaults the whole run takes about 8 minutes on 2 cores.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
BIN=$TARGET_DIR/release
ROUNDS=${BENCH_ROUNDS:-5}
DURATION=${BENCH_DURATION:-5}
WARMUP=${BENCH_WARMUP:-1}
STREAM_COUNT=${BENCH_STREAM_COUNT:-1000000}
CLIENT_REQUESTS=${BENCH_CLIENT_REQUESTS:-200000}
IDLE_CONNECTIONS=${BENCH_IDLE_CONNECTIONS:-10000}
WORKERS=${BENCH_WORKERS:-2}
SCENARIOS=${BENCH_SCENARIOS:-"a b c d e f"}
PORT=${BENCH_PORT:-21051}
REPORT=${BENCH_REPORT:-$ROOT/benches/reports/rust.md}

if read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null && ((PORT + 3 >= low)); then
    echo "BENCH_PORT=$PORT is inside the ephemeral port range (from $low); pick a lower one" >&2
    exit 1
fi
declare -A PORTS=([gust]=$PORT [tonic]=$((PORT + 1)) [h2]=$((PORT + 2)) [codec]=$((PORT + 3)))
# The peers of every scenario; (a) adds the codec server.
SERVERS=(gust tonic h2)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/gust-bench.XXXXXX")
RESULTS=$WORK/results
mkdir -p "$RESULTS"
SERVER_PID=
STARTED=$(date +%s)

log() { printf '[%4ds] %s\n' $(($(date +%s) - STARTED)) "$*" >&2; }

stop_server() {
    if [[ -n $SERVER_PID ]]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=
    fi
}
trap 'stop_server; rm -rf "$WORK"' EXIT

# start_server NAME [ARGS...]: starts bench-NAME-server on its port and waits
# until it announces itself.
start_server() {
    local name=$1 attempt
    shift
    local out=$WORK/$name-server.log
    for attempt in 1 2 3 4 5; do
        record load "$(cut -d' ' -f1 /proc/loadavg)"
    "$BIN/bench-$name-server" --addr "127.0.0.1:${PORTS[$name]}" --workers "$WORKERS" "$@" >"$out" 2>&1 &
        SERVER_PID=$!
        for _ in $(seq 100); do
            grep -q listening "$out" && return 0
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=
        grep -q 'Address already in use' "$out" || break
        log "port ${PORTS[$name]} busy (attempt $attempt); retrying"
        sleep 2
    done
    cat "$out" >&2
    echo "bench-$name-server did not start" >&2
    exit 1
}

url() { echo "http://127.0.0.1:${PORTS[$1]}${2:-}"; }

# record KEY VALUE: one more measurement of KEY.
record() { echo "$2" >>"$RESULTS/$1"; }

# median KEY: the median of KEY's measurements ("n/a" without any).
median() {
    [[ -s $RESULTS/$1 ]] || { echo n/a; return; }
    sort -g "$RESULTS/$1" | awk '{v[NR] = $1} END {
        if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# ratio A B [DECIMALS]: A / B to two decimals, or DECIMALS ("n/a" if either
# is missing).
ratio() {
    awk -v a="$1" -v b="$2" -v d="${3:-2}" 'BEGIN { if (a == "n/a" || b == "n/a" || b == 0) print "n/a"; else printf "%.*f", d, a / b }'
}

# spread KEY: every measurement of KEY, sorted, and how many runs failed.
spread() {
    local failed=0
    [[ -s $RESULTS/$1.failed ]] && failed=$(wc -l <"$RESULTS/$1.failed")
    if [[ -s $RESULTS/$1 ]]; then
        sort -g "$RESULTS/$1" | awk -v failed="$failed" '
            {all = all (NR > 1 ? ", " : "") fmt($1)}
            END {printf "%s%s", all, failed ? "; " failed " failed" : ""}
            function fmt(x) { return (x >= 100) ? sprintf("%.0f", x) : sprintf("%.3g", x) }'
    else
        echo "none; $failed failed"
    fi
}

# h2load_run OUT ARGS...: h2load with a gRPC request; fails unless every
# request got a 2xx answer.
h2load_run() {
    local out=$1
    shift
    timeout $((DURATION + WARMUP + 60)) h2load -H 'content-type: application/grpc' -H 'te: trailers' "$@" >"$out" 2>&1 || true
    if ! grep -q ' 0 failed, 0 errored, 0 timeout' "$out" || ! grep -q 'status codes: [1-9][0-9]* 2xx, 0 3xx, 0 4xx, 0 5xx' "$out"; then
        log "h2load run failed: $(grep -E '^requests:|^status codes:' "$out" | tr '\n' ' ')"
        return 1
    fi
}

h2load_rps() { awk '/^finished in/ {printf "%.0f\n", $4}' "$1"; }

# --- preparation -----------------------------------------------------------

if [[ -z ${BENCH_SKIP_BUILD:-} ]]; then
    log "building release binaries"
    (cd "$ROOT" && cargo build --release -p gust-benches -p gust-cli)
fi
if ! command -v h2load >/dev/null; then
    log "installing h2load (nghttp2-client)"
    apt-get update -qq && apt-get install -y -qq nghttp2-client >/dev/null
fi

# Both the idle-connection client and the server hold one descriptor per
# connection.
want=$((IDLE_CONNECTIONS + 1024))
if (($(ulimit -n) < want)); then
    hard=$(ulimit -Hn)
    if [[ $hard == unlimited ]] || ((hard >= want)); then
        ulimit -n "$want"
    else
        ulimit -n "$hard"
        IDLE_CONNECTIONS=$((hard - 1024))
        log "open-file limit $hard: (f) uses $IDLE_CONNECTIONS connections"
    fi
fi

"$BIN/bench-client" body --size 100 --framed >"$WORK/body-100"
"$BIN/bench-client" body --size 100 >"$WORK/message-100"
"$BIN/bench-client" body --size 1048576 --framed >"$WORK/body-1m"

# Every server answers the benchmark's calls correctly (h2load counts any
# HTTP 200 as a success, so the gRPC status is checked here).
for server in "${SERVERS[@]}" codec; do
    start_server "$server"
    check=$("$BIN/gust" bench --target "$(url "$server")" --method /bench.Echo/Unary --binary "$WORK/message-100" -n 100 -c 10)
    stop_server
    if ! grep -q '\[OK\] 100 responses' <<<"$check"; then
        echo "$check" >&2
        echo "the $server server does not answer /bench.Echo/Unary with OK" >&2
        exit 1
    fi
done

# order ROUND [SERVER...]: the servers (by default every scenario's peers),
# rotated by round, so no server always runs first.
order() {
    local round=$1 i
    shift
    local servers=("$@")
    ((${#servers[@]})) || servers=("${SERVERS[@]}")
    for i in "${!servers[@]}"; do echo "${servers[$(((i + round) % ${#servers[@]}))]}"; done
}

# --- scenarios -------------------------------------------------------------

scenario_a() {
    local round server out
    local -A rps
    for round in $(seq "$ROUNDS"); do
        rps=()
        for server in $(order "$round" "${SERVERS[@]}" codec); do
            log "(a) round $round: $server"
            start_server "$server"
            out=$WORK/a-$server-$round.txt
            if h2load_run "$out" -c 50 -m 20 -t 1 -D "$DURATION" --warm-up-time "$WARMUP" \
                -d "$WORK/body-100" "$(url "$server" /bench.Echo/Unary)"; then
                rps[$server]=$(h2load_rps "$out")
                record "a_$server" "${rps[$server]}"
            else
                record "a_$server.failed" 1
            fi
            if [[ $server == gust ]]; then
                # The same load from `gust bench`, against the same server, on
                # one thread as h2load's `-t 1`.
                log "(a) round $round: gust bench"
                out=$WORK/a-gustbench-$round.txt
                timeout $((DURATION + 60)) "$BIN/gust" bench --target "$(url gust)" --method /bench.Echo/Unary \
                    --binary "$WORK/message-100" --connections 50 --concurrency 1000 --cpus 1 --duration "${DURATION}s" >"$out"
                record a_gustbench "$(awk '/Requests\/sec:/ {print $2}' "$out")"
            fi
            stop_server
        done
        # The servers of one round ran back to back, on the machine as it
        # was then: their ratio leaves out most of the drift between rounds.
        if [[ -n ${rps[gust]:-} && -n ${rps[tonic]:-} ]]; then record a_round_tonic "$(ratio "${rps[gust]}" "${rps[tonic]}")"; fi
        if [[ -n ${rps[gust]:-} && -n ${rps[h2]:-} ]]; then record a_round_limit "$(ratio "${rps[gust]}" "${rps[h2]}")"; fi
        if [[ -n ${rps[codec]:-} && -n ${rps[h2]:-} ]]; then record a_round_codec "$(ratio "${rps[codec]}" "${rps[h2]}")"; fi
        if [[ -n ${rps[gust]:-} && -n ${rps[codec]:-} ]]; then record a_round_gust_codec "$(ratio "${rps[gust]}" "${rps[codec]}")"; fi
    done
}

scenario_b() {
    local round server out log_file
    for round in $(seq "$ROUNDS"); do
        for server in $(order "$round"); do
            log "(b) round $round: $server"
            start_server "$server"
            out=$WORK/b-$server-$round.txt
            log_file=$WORK/b-$server-$round.log
            if h2load_run "$out" -c 1 -m 1 -t 1 -D "$DURATION" --warm-up-time "$WARMUP" --log-file "$log_file" \
                -d "$WORK/body-100" "$(url "$server" /bench.Echo/Unary)"; then
                # The log has one line per request: start, status, elapsed µs.
                record "b_mean_$server" "$(awk '{s += $3} END {printf "%.1f", s / NR}' "$log_file")"
                record "b_p99_$server" "$(cut -f3 "$log_file" | sort -n |
                    awk '{v[NR] = $1} END {i = int(NR * 0.99 + 0.999999); print v[i < 1 ? 1 : i]}')"
                record "b_rps_$server" "$(h2load_rps "$out")"
            else
                record "b_mean_$server.failed" 1
            fi
            stop_server
        done
    done
}

scenario_c() {
    local round server client out
    for round in $(seq "$ROUNDS"); do
        for server in $(order "$round"); do
            start_server "$server"
            for client in gust tonic h2; do
                log "(c) round $round: $client client reads $server"
                out=$WORK/c-$server-$client-$round.txt
                if timeout 120 "$BIN/bench-client" stream --impl "$client" --target "$(url "$server")" \
                    --count "$STREAM_COUNT" --size 16 >"$out" 2>&1; then
                    record "c_${server}_$client" "$(sed -n 's/.*msgs_per_s=\([0-9]*\).*/\1/p' "$out")"
                else
                    record "c_${server}_$client.failed" "$(tail -1 "$out")"
                    log "failed: $(tail -1 "$out")"
                    # A failed stream may have left the server busy sending.
                    stop_server
                    start_server "$server"
                fi
            done
            stop_server
        done
    done
}

scenario_d() {
    local round server out args
    for round in $(seq "$ROUNDS"); do
        for server in $(order "$round"); do
            log "(d) round $round: $server"
            args=()
            [[ $server == h2 ]] && args=(--response-size 1048576)
            start_server "$server" "${args[@]}"
            out=$WORK/d-$server-$round.txt
            if h2load_run "$out" -c 4 -m 4 -t 1 -D "$DURATION" --warm-up-time "$WARMUP" \
                -d "$WORK/body-1m" "$(url "$server" /bench.Echo/Unary)"; then
                # MB/s of echoed payload, one direction (as much again flows in).
                record "d_$server" "$(h2load_rps "$out" | awk '{printf "%.1f", $1 * 1048576 / 1e6}')"
            else
                record "d_$server.failed" 1
            fi
            stop_server
        done
    done
}

scenario_e() {
    local round client out clients
    for round in $(seq "$ROUNDS"); do
        start_server gust
        clients=(gust tonic)
        ((round % 2)) || clients=(tonic gust)
        for client in "${clients[@]}"; do
            log "(e) round $round: $client client"
            out=$WORK/e-$client-$round.txt
            if timeout 300 "$BIN/bench-client" unary --impl "$client" --target "$(url gust)" --concurrency 64 \
                --requests "$CLIENT_REQUESTS" --warmup $((CLIENT_REQUESTS / 10)) >"$out" 2>&1; then
                record "e_rps_$client" "$(sed -n 's/.*req_per_s=\([0-9]*\).*/\1/p' "$out")"
                record "e_cpu_$client" "$(sed -n 's/.*cpu_per_100k=\([0-9.]*\).*/\1/p' "$out")"
            else
                record "e_rps_$client.failed" 1
                log "failed: $(tail -1 "$out")"
            fi
        done
        stop_server
    done
}

scenario_f() {
    local round server out
    for round in $(seq "$ROUNDS"); do
        for server in $(order "$round"); do
            log "(f) round $round: $server, $IDLE_CONNECTIONS connections"
            start_server "$server"
            out=$WORK/f-$server-$round.txt
            if timeout 200 "$BIN/bench-client" idle --target "127.0.0.1:${PORTS[$server]}" \
                --connections "$IDLE_CONNECTIONS" --server-pid "$SERVER_PID" --timeout-secs 180 >"$out" 2>&1; then
                record "f_$server" "$(sed -n 's/.*rss_after_kib=\([0-9]*\).*/\1/p' "$out" | awk '{printf "%.1f", $1 / 1024}')"
                record "f_base_$server" "$(sed -n 's/.*rss_before_kib=\([0-9]*\).*/\1/p' "$out" | awk '{printf "%.1f", $1 / 1024}')"
                record "f_per_$server" "$(sed -n 's/.*per_connection_bytes=\([0-9]*\).*/\1/p' "$out")"
            else
                record "f_$server.failed" 1
                log "failed: $(tail -1 "$out")"
            fi
            stop_server
        done
    done
}

for scenario in $SCENARIOS; do
    "scenario_$scenario"
done
ELAPSED=$(($(date +%s) - STARTED))

# --- report ----------------------------------------------------------------

# verdict VALUE OP TARGET: "met" or "not met" for VALUE OP TARGET. Given the
# ratio to six decimals: 0.947 shows as 0.95 but does not meet 0.95.
verdict() {
    awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN {
        if (v == "n/a") { print "**not measured**"; exit }
        ok = (op == ">=") ? (v >= t) : (v <= t)
        print ok ? "met" : "**not met**" }'
}

has() { [[ " $SCENARIOS " == *" $1 "* ]]; }

commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
[[ -n $(git -C "$ROOT" status --porcelain 2>/dev/null) ]] && commit="$commit (with uncommitted changes)"
mkdir -p "$(dirname "$REPORT")"
{
    echo "# gust vs tonic vs raw h2: Rust benchmarks"
    echo
    echo "Written by \`benches/run.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC') in ${ELAPSED} s. Do not edit by hand."
    echo
    echo "- machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(free -g | awk '/^Mem:/ {print $2}') GiB, Linux $(uname -r)"
    echo "- $(rustc -V), $(h2load --version 2>/dev/null | head -1 | sed 's/.*nghttp2\//h2load (nghttp2) /')"
    echo "- commit: $commit"
    echo "- servers: $WORKERS Tokio worker threads each, on 127.0.0.1, sharing the cores with the load generator;"
    echo "  the 1-minute load average as each server started: $(sort -g "$RESULTS/load" | awk '{v[NR] = $1} END {printf "%s to %s, median %s", v[1], v[NR], v[int((NR + 1) / 2)]}')"
    echo "  (about 2 is this benchmark alone; more is other work on the machine, which shows up as noise)"
    echo "- every figure is the median of $ROUNDS runs; the servers alternate within each round,"
    echo "  each run on a freshly started server; h2load runs ${DURATION} s after ${WARMUP} s of warm-up;"
    echo "  the details list every run, to show the noise"
    echo
    echo "Peers: **gust** (\`bench-gust-server\`), **tonic** 0.14 (\`bench-tonic-server\`, the same handler),"
    echo "and **raw h2** (\`bench-h2-server\`: h2 answering every POST with a fixed gRPC response, no gRPC work:"
    echo "the h2 crate's limit, the reference the issue names). Limit ratio = gust / raw h2. gust's server runs on"
    echo "its own HTTP/2 engine, not on h2, so it can pass that limit; (a) also compares it with the codec reference."
    echo "Verdicts compare the ratios unrounded."
    echo
    echo "## Targets"
    echo
    echo "| scenario | target | gust | tonic | raw h2 | gust/tonic | gust/limit | verdict |"
    echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
    if has a; then
        g=$(median a_gust) t=$(median a_tonic) h=$(median a_h2)
        echo "| (a) unary 100 B, 50 conn × 20 streams, req/s | ≥1.05× tonic, ≥0.95× raw h2 | $g | $t | $h | $(ratio "$g" "$t") | $(ratio "$g" "$h") | $(verdict "$(ratio "$g" "$t" 6)" '>=' 1.05) / $(verdict "$(ratio "$g" "$h" 6)" '>=' 0.95) |"
    fi
    if has b; then
        g=$(median b_p99_gust) t=$(median b_p99_tonic) h=$(median b_p99_h2)
        echo "| (b) unary at concurrency 1, p99 µs | ≤ tonic | $g | $t | $h | $(ratio "$g" "$t") | $(ratio "$g" "$h") | $(verdict "$(ratio "$g" "$t" 6)" '<=' 1) |"
    fi
    if has c; then
        g=$(median c_gust_gust) t=$(median c_tonic_tonic) h=$(median c_h2_h2)
        v=$(verdict "$(ratio "$g" "$t" 6)" '>=' 1.5)
        [[ -s $RESULTS/c_gust_gust.failed ]] && v="**not met**: $(wc -l <"$RESULTS/c_gust_gust.failed") of $ROUNDS streams failed"
        echo "| (c) server streaming 16 B, msg/s (each stack's own client) | ≥1.5× tonic | $g | $t | $h | $(ratio "$g" "$t") | $(ratio "$g" "$h") | $v |"
        g=$(median c_gust_h2) t=$(median c_tonic_h2)
        echo "| (c′) the same servers read by the bare h2 reader | ≥1.5× tonic | $g | $t | $h | $(ratio "$g" "$t") | $(ratio "$g" "$h") | $(verdict "$(ratio "$g" "$t" 6)" '>=' 1.5) |"
    fi
    if has d; then
        g=$(median d_gust) t=$(median d_tonic) h=$(median d_h2)
        echo "| (d) unary 1 MiB, MB/s | ≥1.0× tonic | $g | $t | $h | $(ratio "$g" "$t") | $(ratio "$g" "$h") | $(verdict "$(ratio "$g" "$t" 6)" '>=' 1.0) |"
    fi
    if has e; then
        g=$(median e_rps_gust) t=$(median e_rps_tonic)
        echo "| (e) client, 64 in flight on the gust server, req/s | ≥1.2× tonic | $g | $t | – | $(ratio "$g" "$t") | – | $(verdict "$(ratio "$g" "$t" 6)" '>=' 1.2) |"
        g=$(median e_cpu_gust) t=$(median e_cpu_tonic)
        echo "| (e) client CPU s per 100k calls | (lower is better) | $g | $t | – | $(ratio "$g" "$t") | – | – |"
    fi
    if has f; then
        g=$(median f_gust) t=$(median f_tonic) h=$(median f_h2)
        echo "| (f) $IDLE_CONNECTIONS idle connections, server RSS MiB | ≤ tonic | $g | $t | $h | $(ratio "$g" "$t") | $(ratio "$g" "$h") | $(verdict "$(ratio "$g" "$t" 6)" '<=' 1) |"
    fi
    echo
    echo "## Details"
    if has a; then
        echo
        echo "### (a) unary throughput"
        echo
        echo "h2load \`-c 50 -m 20 -t 1\`, 100-byte payload echoed (105-byte gRPC message each way)."
        echo
        echo "| server | req/s (median) | every run |"
        echo "| --- | --- | --- |"
        for s in gust tonic h2 codec; do echo "| $s | $(median "a_$s") | $(spread "a_$s") |"; done
        echo
        echo "Within each round (the servers back to back): gust/tonic $(spread a_round_tonic) (median $(median a_round_tonic));"
        echo "gust/limit $(spread a_round_limit) (median $(median a_round_limit)); codec/h2 $(spread a_round_codec) (median $(median a_round_codec));"
        echo "gust/codec $(spread a_round_gust_codec) (median $(median a_round_gust_codec))."
        echo
        echo "*codec* (\`bench-codec-server\`) is not a peer: it gives the raw h2 server's answer on h2's frame codec,"
        echo "one task owning each connection, without h2's stream store, stream handles and their shared lock:"
        echo "about what HTTP/2 alone costs on an engine like gust's, which has no stream store either."
        echo "gust/codec is what gust's gRPC work (routing, decoding, the handler, the status) costs on top."
        echo
        g=$(median a_gust) b=$(median a_gustbench)
        echo "\`gust bench --connections 50 --concurrency 1000 --cpus 1\` on the gust server: $b req/s ($(spread a_gustbench));"
        echo "gust bench / h2load = **$(ratio "$b" "$g")** (within 10%: $(awk -v r="$(ratio "$b" "$g")" 'BEGIN { print (r != "n/a" && r >= 0.9 && r <= 1.1) ? "yes" : "**no**" }'))."
        echo "On 2 cores the load generator takes CPU from the server, so a generator that costs more per call"
        echo "than h2load measures less; \`gust bench\` writes its plaintext load on h2's frame codec for that reason."
    fi
    if has b; then
        echo
        echo "### (b) unary latency at concurrency 1"
        echo
        echo "h2load \`-c 1 -m 1\`; mean and p99 from its per-request log (\`--log-file\`), in µs."
        echo
        echo "| server | mean µs | p99 µs | req/s | every run's mean | every run's p99 |"
        echo "| --- | --- | --- | --- | --- | --- |"
        for s in gust tonic h2; do
            echo "| $s | $(median "b_mean_$s") | $(median "b_p99_$s") | $(median "b_rps_$s") | $(spread "b_mean_$s") | $(spread "b_p99_$s") |"
        done
        echo
        echo "mean: gust/tonic $(ratio "$(median b_mean_gust)" "$(median b_mean_tonic)"), gust/limit $(ratio "$(median b_mean_gust)" "$(median b_mean_h2)")."
    fi
    if has c; then
        echo
        echo "### (c) server streaming"
        echo
        echo "One call of $STREAM_COUNT messages of 16 bytes, read to the end, messages/s (median). Rows: server;"
        echo "columns: the client reading. The *h2* client is a bare h2 reader counting gRPC frames, with no limit on"
        echo "small DATA frames (h2's clients, and so gust's and tonic's, close a connection that sends"
        echo "too many small DATA frames faster than they are read: GOAWAY ENHANCE_YOUR_CALM \`too_many_data_frames\`)."
        echo "The raw h2 server packs messages into 16 KiB DATA frames; tonic's handler returns a"
        echo "\`stream::iter\` (its cheapest stream). The bare h2 reader and tonic's client accept h2's default"
        echo "16 KiB DATA frames, gust's client 64 KiB (its default \`max_frame_size\`): h2 writes one DATA frame"
        echo "per \`writev\`, so a server writes 4 times as often to the first two."
        echo
        echo "| server \\ client | gust | tonic | h2 |"
        echo "| --- | --- | --- | --- |"
        for s in gust tonic h2; do
            row="| $s"
            for c in gust tonic h2; do
                cell=$(median "c_${s}_$c")
                [[ -s $RESULTS/c_${s}_$c.failed ]] && cell="$cell ($(wc -l <"$RESULTS/c_${s}_$c.failed") of $ROUNDS failed)"
                row="$row | $cell"
            done
            echo "$row |"
        done
        echo
        echo "Every run: $(for s in gust tonic h2; do for c in gust tonic h2; do printf '%s←%s: %s. ' "$s" "$c" "$(spread "c_${s}_$c")"; done; done)"
        echo
        echo "Same client, server ratio gust/tonic: gust client $(ratio "$(median c_gust_gust)" "$(median c_tonic_gust)"),"
        echo "tonic client $(ratio "$(median c_gust_tonic)" "$(median c_tonic_tonic)"), h2 reader $(ratio "$(median c_gust_h2)" "$(median c_tonic_h2)");"
        echo "gust server / limit with the h2 reader: $(ratio "$(median c_gust_h2)" "$(median c_h2_h2)")."
        failures=$(cat "$RESULTS"/c_*.failed 2>/dev/null | sort | uniq -c | sed 's/^ */    /' || true)
        if [[ -n $failures ]]; then
            echo
            echo "Failures (count, last line of the client's output):"
            echo
            echo "$failures"
        fi
    fi
    if has d; then
        echo
        echo "### (d) large messages"
        echo
        echo "h2load \`-c 4 -m 4\`, 1 MiB payload echoed; MB/s of payload one way (10^6 bytes; as much flows the other way)."
        echo
        echo "| server | MB/s (median) | every run |"
        echo "| --- | --- | --- |"
        for s in gust tonic h2; do echo "| $s | $(median "d_$s") | $(spread "d_$s") |"; done
    fi
    if has e; then
        echo
        echo "### (e) client cost"
        echo
        echo "\`bench-client unary\`: 64 calls in flight on one connection to the gust server, $CLIENT_REQUESTS calls after"
        echo "$((CLIENT_REQUESTS / 10)) of warm-up; the client runs 2 Tokio workers; CPU is the client process's user + system time (getrusage)."
        echo
        echo "| client | req/s | CPU s per 100k calls | every run's req/s | every run's CPU |"
        echo "| --- | --- | --- | --- | --- |"
        for c in gust tonic; do
            echo "| $c | $(median "e_rps_$c") | $(median "e_cpu_$c") | $(spread "e_rps_$c") | $(spread "e_cpu_$c") |"
        done
        echo
        echo "gust/tonic: req/s $(ratio "$(median e_rps_gust)" "$(median e_rps_tonic)"), CPU per call $(ratio "$(median e_cpu_gust)" "$(median e_cpu_tonic)") (lower is better)."
    fi
    if has f; then
        echo
        echo "### (f) idle connections"
        echo
        echo "\`bench-client idle\` opens $IDLE_CONNECTIONS HTTP/2 connections (handshake and one PING each) and reads the"
        echo "server's VmRSS."
        echo
        echo "| server | RSS before, MiB | RSS after, MiB | bytes per connection | every run (after) |"
        echo "| --- | --- | --- | --- | --- |"
        for s in gust tonic h2; do
            echo "| $s | $(median "f_base_$s") | $(median "f_$s") | $(median "f_per_$s") | $(spread "f_$s") |"
        done
    fi
} >"$REPORT"
log "report written to ${REPORT#"$ROOT"/}"
cat "$REPORT"
