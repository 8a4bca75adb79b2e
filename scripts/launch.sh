#!/usr/bin/env bash
# Data-parallel training on one machine: N reflab-cli processes with torchrun's environment
# (WORLD_SIZE, LOCAL_WORLD_SIZE, RANK, LOCAL_RANK, MASTER_ADDR, MASTER_PORT), rank 0 owning the
# workspace. Each rank takes cores / N intra-op threads unless --threads says otherwise.
#   scripts/launch.sh N -- train --recipe R.json --db W.db [train options...]
#   scripts/launch.sh 2 -- --threads 1 train ...      (global reflab-cli options go first)
# MASTER_PORT (default: a free port) and MASTER_ADDR (default 127.0.0.1) may be set. Rank 0's
# output is passed through; the others' stderr lines are prefixed "[rank R]". SIGTERM or
# SIGINT to this script goes to every rank (they stop together after the step, the run
# 'stopped'). The exit status is the first non-zero one of the ranks, else 0.
# Several machines: see the README ("Training on several processes"); each machine runs its
# ranks with the same MASTER_ADDR/MASTER_PORT and its own RANK values.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cli="${REFLAB_CLI:-${REFLAB_BUILD_DIR:-$root/build}/bin/reflab-cli}"

usage() {
  echo "usage: scripts/launch.sh N -- [reflab-cli options] train ..." >&2
  exit 2
}
[ $# -ge 2 ] || usage
n="$1"
shift
[[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "launch.sh: N must be a positive integer, got '$n'" >&2; exit 2; }
[ "$1" = "--" ] || usage
shift
[ -x "$cli" ] || { echo "launch.sh: $cli is not built (scripts/build.sh)" >&2; exit 2; }

addr="${MASTER_ADDR:-127.0.0.1}"
# A free port from the kernel, unless one was given.
port="${MASTER_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("",0)); print(s.getsockname()[1])' 2>/dev/null || echo 29500)}"

pids=()
forward() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
}
trap forward TERM INT

for ((r = 0; r < n; r++)); do
  if [ "$r" -eq 0 ]; then
    WORLD_SIZE="$n" LOCAL_WORLD_SIZE="$n" RANK="$r" LOCAL_RANK="$r" MASTER_ADDR="$addr" MASTER_PORT="$port" \
      "$cli" "$@" &
  else
    # Only the child's stderr is prefixed; its pid is the reflab-cli's own (exec).
    WORLD_SIZE="$n" LOCAL_WORLD_SIZE="$n" RANK="$r" LOCAL_RANK="$r" MASTER_ADDR="$addr" MASTER_PORT="$port" \
      bash -c 'exec "$@" 2> >(sed -u "s/^/[rank '"$r"'] /" >&2)' _ "$cli" "$@" &
  fi
  pids+=("$!")
done

status=0
for p in "${pids[@]}"; do
  # wait returns early when a trapped signal arrives: wait again until the rank has exited.
  while true; do
    wait "$p"
    code=$?
    kill -0 "$p" 2>/dev/null || break
  done
  [ "$status" -eq 0 ] && [ "$code" -ne 0 ] && status=$code
done
exit "$status"
