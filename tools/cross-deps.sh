#!/usr/bin/env bash
# cross-deps.sh -- install what `make cross-cortex-m` and `make test-be`
# need on a Debian (bookworm) machine. Idempotent: installs only what is
# missing and runs `apt-get update` only when something is. Needs root.
#
#   gcc-arm-none-eabi        Cortex-M cross compiler + binutils (nm, size)
#   gcc-s390x-linux-gnu      big-endian Linux cross compiler
#   libc6-dev-s390x-cross    its C library headers and static libc (only
#                            Recommended by the compiler, so named here)
#   qemu-user                qemu-s390x (runs the static s390x test binary)
#   check:s390x              libcheck.a for s390x (Debian multiarch)
#   libsubunit-dev:s390x     libsubunit.a, which the static libcheck needs
#
# Usage: tools/cross-deps.sh [arm|be|all]   (default all)
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

what=${1:-all}
host_pkgs=()
be_pkgs=()
case $what in
  arm) host_pkgs+=(gcc-arm-none-eabi) ;;
  be)  host_pkgs+=(gcc-s390x-linux-gnu libc6-dev-s390x-cross qemu-user pkg-config make); be_pkgs+=(check:s390x libsubunit-dev:s390x) ;;
  all) host_pkgs+=(gcc-arm-none-eabi gcc-s390x-linux-gnu libc6-dev-s390x-cross qemu-user pkg-config make)
       be_pkgs+=(check:s390x libsubunit-dev:s390x) ;;
  *) echo "usage: $0 [arm|be|all]" >&2; exit 2 ;;
esac

SUDO=
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 && SUDO=sudo || { echo "cross-deps: need root" >&2; exit 1; }
fi

need=()
for p in "${host_pkgs[@]}" "${be_pkgs[@]}"; do
  # dpkg -s takes name:arch for foreign packages.
  st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$st" = installed ] || need+=("$p")
done
[ ${#need[@]} -eq 0 ] && { echo "cross-deps: all present"; exit 0; }

if [ ${#be_pkgs[@]} -gt 0 ] && ! dpkg --print-foreign-architectures | grep -qx s390x; then
  $SUDO dpkg --add-architecture s390x
fi
echo "cross-deps: installing ${need[*]}"
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
echo "cross-deps: done"
