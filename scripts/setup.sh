#!/usr/bin/env bash
# Installs what RefLab needs on Debian bookworm, quietly and only what is missing.
# Sourced by run.sh and test.sh; safe to run again.
set -euo pipefail

REFLAB_PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config
  libtorch-dev libopenblas0-pthread libgloo-dev
  qt6-base-dev libqcustomplot-dev
  libsqlite3-dev nlohmann-json3-dev libpcre2-dev libutf8proc-dev libcli11-dev
  xvfb xauth clang-format
)

missing=()
for p in "${REFLAB_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "reflab setup: installing ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
