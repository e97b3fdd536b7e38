#!/usr/bin/env bash
# Install the grpc-js interop peer's packages (interop/node/package-lock.json,
# exact pins) into interop/node/node_modules with `npm ci`.
#
# Idempotent: when node_modules already holds exactly this lock file's
# packages it does nothing. Needs no terminal: never prompts, works with no
# stdin and CI=true. Needs node and npm on PATH (Node.js >= 18).
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
dir="$repo/interop/node"
lock="$dir/package-lock.json"
stamp="$dir/node_modules/.gust-package-lock.sha256"

for tool in node npm; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "setup-node: $tool not found on PATH; install Node.js >= 18 (with npm)" >&2
        exit 1
    fi
done
major="$(node -p 'process.versions.node.split(".")[0]')"
if (( major < 18 )); then
    echo "setup-node: Node.js $(node --version) is too old; need >= 18" >&2
    exit 1
fi

want="$( (cat "$dir/package.json" "$lock"; node --version) | sha256sum | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]] \
    && (cd "$dir" && node -e 'require("@grpc/grpc-js"); require("@grpc/proto-loader")') >/dev/null 2>&1; then
    exit 0
fi

echo "setup-node: npm ci in $dir" >&2
(
    cd "$dir"
    export npm_config_yes=true npm_config_update_notifier=false npm_config_progress=false
    npm ci --no-audit --no-fund --loglevel=error </dev/null >&2
)
echo "$want" >"$stamp"
