#!/usr/bin/env bash
# Create <repo>/.venv and install the pinned packages of
# scripts/requirements-test.txt (grpcio, grpcio-tools, pytest).
#
# Idempotent: when .venv already holds exactly these pins it does nothing.
# Needs no terminal: never prompts, works with no stdin and CI=true.
# Environment: PYTHON (default python3.11, else python3) picks the interpreter.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
venv="$repo/.venv"
reqs="$repo/scripts/requirements-test.txt"
stamp="$venv/.requirements-test.sha256"

if [[ -n "${PYTHON:-}" ]]; then
    python="$PYTHON"
elif command -v python3.11 >/dev/null 2>&1; then
    python=python3.11
else
    python=python3
fi

want="$( (cat "$reqs"; "$python" -c 'import sys; print(sys.version)') | sha256sum | cut -d' ' -f1)"

if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]] \
    && "$venv/bin/python" -c 'import grpc, grpc_tools, pytest' >/dev/null 2>&1; then
    exit 0
fi

echo "setup-python: installing $(basename "$reqs") into $venv" >&2
version='import sys; print(sys.version)'
if [[ "$("$venv/bin/python" -c "$version" 2>/dev/null)" != "$("$python" -c "$version")" ]]; then
    rm -rf "$venv"
    "$python" -m venv "$venv"
fi
rm -f "$stamp"

export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
"$venv/bin/python" -m pip install --quiet --requirement "$reqs" </dev/null
"$venv/bin/python" -m pip check >/dev/null
echo "$want" >"$stamp"
