#!/usr/bin/env bash
# The project's test command: installs what the tests need, then runs them all.
#   1. the Python virtualenv with the pinned grpcio peer (scripts/setup-python.sh)
#   2. the Rust tests of the whole workspace, then each fuzz target for a few
#      seconds (scripts/fuzz.sh; installs cargo-fuzz on first use)
#   3. the examples' binaries and the Python package gust (crates/gust-python,
#      built into .venv by scripts/build-python.sh), then the Python tests:
#      interoperability with grpcio (tests/python), gust's grpcio API
#      (tests/python_api), the standard services (health, reflection)
#      against grpcio's own clients (tests/services), and TLS with grpcio
#      both ways (tests/tls)
#   4. the standard gRPC interop cases against grpcio and grpc-js, both ways
#      (scripts/interop.sh, which rewrites interop/MATRIX.md)
# Extra arguments go to pytest (e.g. scripts/test.sh -k fibonacci).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup-python.sh
scripts/setup-node.sh
cargo test --workspace
scripts/fuzz.sh
cargo build -p gust-examples --bins
scripts/build-python.sh
export GUST_BIN_DIR="${GUST_BIN_DIR:-${CARGO_TARGET_DIR:-$PWD/target}/debug}"
.venv/bin/python -m pytest -p no:cacheprovider tests/python tests/python_api tests/services tests/tls -q "$@"
scripts/interop.sh
