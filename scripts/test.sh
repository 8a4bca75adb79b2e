#!/usr/bin/env bash
# Sets up, builds and runs every test (ctest: core, CLI and offscreen GUI Qt Test suites).
# Exits non-zero on any failure.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh"
start=$(date +%s)
"$root/scripts/build.sh"
echo "reflab test: build took $(( $(date +%s) - start )) s" >&2
export QT_QPA_PLATFORM=offscreen
ctest --test-dir "${REFLAB_BUILD_DIR:-$root/build}" --output-on-failure --parallel "$(nproc)" "$@"
echo "reflab test: all done in $(( $(date +%s) - start )) s" >&2
