#!/bin/sh
# linux-capture.sh -- regenerate vectors/linux/*.pkt and *.pcap from real
# Linux traffic.
#
# Needs root (a network namespace and a TUN device), iproute2, python3.
# Everything happens inside a throwaway network namespace made by
# `unshare --net`: Linux (192.0.2.1 in that namespace) talks over the TUN
# device pnvec0 to tools/linux-capture.py, which stands in for purenet
# (192.168.0.1). Nothing touches the host's interfaces or any other
# address; the namespace and the device vanish when the script ends.
#
# Usage: tools/linux-capture.sh [OUTDIR] [sack] [download] [upload]
set -eu
OUT=${1:-vectors/linux}
[ $# -gt 0 ] && shift
[ "$(id -u)" = 0 ] || { echo "linux-capture.sh: needs root (unshare --net, /dev/net/tun)"; exit 1; }
command -v unshare >/dev/null && command -v ip >/dev/null && command -v python3 >/dev/null || {
  echo "linux-capture.sh: needs unshare (util-linux), ip (iproute2) and python3"; exit 1; }
here=$(dirname "$0")
exec unshare --net -- python3 "$here/linux-capture.py" "$OUT" "$@"
