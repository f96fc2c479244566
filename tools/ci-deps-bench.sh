#!/usr/bin/env bash
# tools/ci-deps-bench.sh -- idempotent install of what make bench and
# make bench-quick need on Debian: lwIP 2.1.3 (liblwip-dev, the comparison
# stack) and valgrind (callgrind instruction counts). Run as root.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
need=()
for p in liblwip-dev valgrind pkg-config binutils; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
echo "ci-deps-bench: liblwip-dev $(dpkg-query -W -f='${Version}' liblwip-dev), $(valgrind --version)"
