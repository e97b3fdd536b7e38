#!/usr/bin/env bash
# Runs every fuzz target in fuzz/ for SECONDS each (default 5): a smoke run
# that the test command makes. For a real hunt, give it longer, e.g.
#   scripts/fuzz.sh 600
# or one target: cargo +nightly fuzz run frame_decoder
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-5}"
scripts/setup-fuzz.sh
for target in $(cargo +nightly fuzz list); do
    echo "fuzzing $target for ${seconds}s"
    cargo +nightly fuzz run "$target" -- -max_total_time="$seconds"
done
