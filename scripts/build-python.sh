#!/usr/bin/env bash
# Build the Python package gust (crates/gust-python: the PyO3 extension
# gust._gust and the Python sources) and install it into <repo>/.venv, with
# maturin (pinned in scripts/requirements-test.txt; run scripts/setup-python.sh
# first).
#
# The install is editable: the Python sources are used from
# crates/gust-python/python/, where the built extension is placed too. Cargo
# rebuilds only what changed, so running this again is cheap.
# Needs no terminal; prints nothing unless the build fails.
# Environment: GUST_PYTHON_PROFILE=release builds with optimizations (for
# benchmarks; the default debug build shares the test build's artifacts).
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
venv="$repo/.venv"

if [[ ! -x "$venv/bin/maturin" ]]; then
    echo "build-python: $venv/bin/maturin not found; run scripts/setup-python.sh first" >&2
    exit 1
fi

args=(develop --manifest-path "$repo/crates/gust-python/Cargo.toml")
if [[ "${GUST_PYTHON_PROFILE:-debug}" == release ]]; then
    args+=(--release)
fi

log="$(mktemp "${TMPDIR:-/tmp}/gust-build-python.XXXXXX")"
trap 'rm -f "$log"' EXIT
if ! VIRTUAL_ENV="$venv" PATH="$venv/bin:$PATH" PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 \
    "$venv/bin/maturin" "${args[@]}" </dev/null >"$log" 2>&1; then
    echo "build-python: maturin ${args[*]} failed:" >&2
    cat "$log" >&2
    exit 1
fi
if ! "$venv/bin/python" -c 'import gust._gust' >"$log" 2>&1; then
    echo "build-python: the built package does not import:" >&2
    cat "$log" >&2
    exit 1
fi
