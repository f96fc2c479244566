#!/usr/bin/env bash
# ci-cross.sh -- CI stage "embedded reality" (called by .ci/run):
#   1. tools/cross-deps.sh: the cross compilers, qemu-user, check:s390x;
#   2. make cross-cortex-m: freestanding Cortex-M4 build, symbol check,
#      size table (full/minimal), smallest arena measured under qemu-arm;
#   3. make test-be: the whole Check suite on big-endian s390x (qemu).
# Prints the time of each step.
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=$(nproc 2>/dev/null || echo 2)
step() {
  local name=$1
  shift
  local t0
  t0=$(date +%s)
  echo "== ci-cross: $name"
  "$@"
  echo "== ci-cross: $name took $(( $(date +%s) - t0 )) s"
}

step cross-deps bash tools/cross-deps.sh all
step cross-cortex-m make -j"$jobs" --no-print-directory cross-cortex-m
step test-be make -j"$jobs" --no-print-directory test-be
