#!/usr/bin/env bash
# tools/ci-interop.sh -- the interop stage of .ci/run: installs what it
# needs (idempotent), then make test-interop (pn-tun against Linux in
# network namespaces, purenet against lwIP in memory). Runs as root.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
need=()
for p in iproute2 curl netcat-openbsd socat iputils-ping liblwip-dev pkg-config procps; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
if [ ! -c /dev/net/tun ]; then
  mkdir -p /dev/net && mknod /dev/net/tun c 10 200 && chmod 600 /dev/net/tun
fi
make test-interop
