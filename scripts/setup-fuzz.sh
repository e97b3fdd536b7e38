#!/usr/bin/env bash
# Installs what the fuzz targets need: cargo-fuzz (built from crates.io
# source) for the nightly toolchain libFuzzer builds with. Idempotent: does
# nothing when cargo-fuzz is already installed.
set -euo pipefail
if ! rustup toolchain list | grep -q '^nightly'; then
    rustup toolchain install nightly --profile minimal
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi
