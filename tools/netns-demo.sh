#!/usr/bin/env bash
# tools/netns-demo.sh -- pn-tun on a real TUN device inside a throwaway
# network namespace (root). Creates the namespace and the device, gives
# Linux 10.0.0.1/24 and pn-tun 10.0.0.2, runs pn-tun with every service,
# then pings it, fetches from its HTTP server, sends to its echo and
# discard services and a UDP datagram, and prints pn-tun's trace and
# counters. Everything is removed on exit, whatever happens.
#
#   tools/netns-demo.sh [--tap] [--shell] [--pcap FILE] [pn-tun options...]
#     --tap      Ethernet (TAP) instead of bare IP (TUN)
#     --shell    open a shell inside the namespace instead of the scripted
#                demo (try: ping 10.0.0.2; curl 10.0.0.2/bytes/100; nc 10.0.0.2 7)
# PN_TUN=path overrides the binary (default build/pn-tun, built if absent).
set -euo pipefail
cd "$(dirname "$0")/.."
PN_TUN=${PN_TUN:-build/pn-tun}
[ "$(id -u)" = 0 ] || { echo "netns-demo: needs root (ip netns, /dev/net/tun)" >&2; exit 1; }
[ -x "$PN_TUN" ] || make -s "$PN_TUN"
PN_TUN=$(readlink -f "$PN_TUN")

mode=tun shell=0 args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --tap) mode=tap ;;
    --shell) shell=1 ;;
    *) args+=("$1") ;;
  esac
  shift
done
ns=pn-demo-$$ dev=pn${mode}0 tmp=$(mktemp -d /tmp/pn-demo.XXXXXX) pid=

cleanup() {
  [ -n "$pid" ] && kill -INT "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  ip netns pids "$ns" 2>/dev/null | while read -r p; do kill "$p" 2>/dev/null || true; done
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

run() { echo "+ $*"; "$@"; }
inns() { ip netns exec "$ns" "$@"; }

echo "# the host side, as README says (inside namespace $ns)"
run ip netns add "$ns"
run inns ip link set lo up
run inns ip tuntap add dev "$dev" mode "$mode"
run inns ip addr add 10.0.0.1/24 dev "$dev"
run inns ip link set "$dev" up
inns sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=1" || true

echo "# pn-tun: purenet at 10.0.0.2 on $dev"
pv=()
[ $shell = 0 ] && pv=(-v)
[ "$mode" = tap ] && pv+=(--tap)
ip netns exec "$ns" "$PN_TUN" --dev "$dev" --addr 10.0.0.2/24 "${pv[@]}" "${args[@]}" \
    > "$tmp/trace" 2> "$tmp/log" &
pid=$!
for _ in $(seq 50); do grep -q ready "$tmp/log" && break; sleep 0.1; done
cat "$tmp/log"

if [ $shell = 1 ]; then
  echo "# a shell in the namespace; exit it to tear everything down"
  inns "${SHELL:-bash}" || true
else
  run inns ping -c 2 -i 0.2 10.0.0.2
  run inns ping -c 1 -s 3000 10.0.0.2
  echo "+ curl http://10.0.0.2/bytes/100000 | sha256sum   (pn-tun --gen 100000 | sha256sum)"
  inns curl -sS http://10.0.0.2/bytes/100000 | sha256sum
  "$PN_TUN" --gen 100000 | sha256sum
  echo "+ echo hello | nc -N 10.0.0.2 7"
  echo "hello, purenet" | inns timeout 5 nc -N 10.0.0.2 7 || true
  echo "+ head -c 1M /dev/zero | nc -N 10.0.0.2 9"
  head -c 1048576 /dev/zero | inns timeout 10 nc -N 10.0.0.2 9 || true
  echo "+ UDP echo"
  echo "a datagram" | inns timeout 3 socat -t 1 - UDP:10.0.0.2:7 || true
  sleep 0.3
  kill -INT "$pid"; wait "$pid" 2>/dev/null || true; pid=
  echo "# pn-tun's trace (first and last lines)"
  head -25 "$tmp/trace"; echo "..."; tail -8 "$tmp/trace"
  echo "# pn-tun's log and counters"
  cat "$tmp/log"
fi
