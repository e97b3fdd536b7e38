#!/usr/bin/env bash
# Demo: build the examples, start the Fibonacci server (port 1337), run the
# Fibonacci client against it, stop the server. Exits with the client's status.
# Arguments go to the client (default: `all`, the four call kinds).
set -euo pipefail
cd "$(dirname "$0")/.."

port=1337
cargo build -p gust-examples --bins
bin="${CARGO_TARGET_DIR:-$PWD/target}/debug"

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }

if listening; then
    echo "demo: port $port is already in use; stop whatever listens there first" >&2
    exit 1
fi

"$bin/fibonacci-server" &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true' EXIT

deadline=$((SECONDS + 30))
until listening; do
    if ! kill -0 "$server" 2>/dev/null; then
        echo "demo: fibonacci-server exited before listening on port $port" >&2
        exit 1
    fi
    if ((SECONDS >= deadline)); then
        echo "demo: fibonacci-server did not listen on port $port within 30 s" >&2
        exit 1
    fi
    sleep 0.1
done

status=0
"$bin/fibonacci-client" "${@:-all}" || status=$?
exit "$status"
