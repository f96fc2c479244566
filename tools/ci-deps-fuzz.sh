#!/bin/sh
# ci-deps-fuzz.sh -- Debian packages for make fuzz, fuzz-smoke and coverage:
# afl++ (afl-clang-fast, afl-fuzz; pulls clang/llvm) and gcovr. Idempotent:
# installs only what is missing. Called from .ci/run.
set -eu
need=
command -v afl-fuzz >/dev/null 2>&1 && command -v afl-clang-fast >/dev/null 2>&1 || need="$need afl++"
command -v gcovr >/dev/null 2>&1 || need="$need gcovr"
command -v clang >/dev/null 2>&1 || need="$need clang"
if [ -n "$need" ]; then
  SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $need
fi
echo "ci-deps-fuzz: afl-fuzz $(command -v afl-fuzz), gcovr $(command -v gcovr)"
