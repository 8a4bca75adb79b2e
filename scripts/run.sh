#!/usr/bin/env bash
# Sets up, builds and opens the RefLab GUI on the shipped demo workspace.
#   scripts/run.sh                 the GUI
#   scripts/run.sh --headless ...  reflab-cli instead (no args: train the demo, print the result)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh"
"$root/scripts/build.sh"
bin="${REFLAB_BUILD_DIR:-$root/build}/bin"
if [ "${1:-}" = "--headless" ]; then
  shift
  if [ $# -eq 0 ]; then set -- --help; fi
  exec "$bin/reflab-cli" "$@"
fi
if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && command -v xvfb-run >/dev/null; then
  echo "reflab: no display; running under xvfb-run" >&2
  exec xvfb-run -a "$bin/reflab" "$@"
fi
exec "$bin/reflab" "$@"
