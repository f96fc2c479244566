#!/usr/bin/env bash
# tools/capture-linux-interop.sh -- records Linux's own packets against
# pn-tun (in a throwaway network namespace, as the interop tests do) and
# saves them as pcap under vectors/linux-interop/. Root. Each file holds
# both directions as pn-tun's tap saw them (after its impairment on the
# way in); Linux's side -- SYN options, window updates, SACKs, FINs,
# ARP, fragments -- is real input no one here wrote.
#
#   PN_TUN=build/pn-tun tools/capture-linux-interop.sh [OUTDIR]
set -euo pipefail
cd "$(dirname "$0")/.."
PN_TUN=$(readlink -f "${PN_TUN:-build/pn-tun}")
out=$(readlink -f "${1:-vectors/linux-interop}")
mkdir -p "$out"
export PN_TUN NI_CASE=capture
. tools/interop/lib.sh
. tools/interop/checks.sh

# one(name, mode, pn-tun args, commands...): a fresh device per capture.
cap() {
  local name=$1 mode=$2 pnargs=$3; shift 3
  ni_in ip link del "$NI_DEV" 2>/dev/null || true
  NI_MODE=$mode NI_DEV=pn${mode}0 NI_TAP_ARG=
  [ "$mode" = tap ] && NI_TAP_ARG=--tap
  ni_in ip tuntap add dev "$NI_DEV" mode "$mode"
  ni_in sysctl -qw "net.ipv6.conf.$NI_DEV.disable_ipv6=1" || true
  ni_in ip addr add "$NI_LINUX/24" dev "$NI_DEV"
  ni_in ip link set "$NI_DEV" up
  # shellcheck disable=SC2086
  ni_start_pn "$name" --seed 7 --pcap "$out/$name.pcap" $pnargs
  "$@"
  sleep 0.3
  ni_stop_pn
  echo "$name: $(grep -c . "$NI_TMP/$name.log") log lines, $(stat -c %s "$out/$name.pcap") bytes" >&2
}

ip netns add "$NI_NS"
trap ni_cleanup EXIT
ni_in ip link set lo up

# 1. Linux's SYN options (MSS, SACK-permitted, timestamps, window scale),
# a short GET, and both FINs.
cap tun-http-get tun "" sh -c "ip netns exec $NI_NS curl -sS -o /dev/null http://$NI_PN/bytes/20000"
# 2. Linux receiving over a lossy link: its duplicate ACKs with SACK
# blocks (and D-SACK for duplicates).
cap tun-sack tun "--loss 0.05 --dup 0.02 --reorder 0.02" \
  sh -c "ip netns exec $NI_NS curl -sS -o /dev/null http://$NI_PN/bytes/300000"
# 3. A slow Linux reader: its window closes and reopens (window updates).
cap tun-window tun "--sndbuf 65536" \
  sh -c "ip netns exec $NI_NS curl -sS --limit-rate 100k -o /dev/null http://$NI_PN/bytes/200000"
# 4. Linux sending to pn-tun's discard: its data segments, PSH, FIN.
cap tun-upload tun "" sh -c "head -c 100000 /dev/urandom | ip netns exec $NI_NS nc -N $NI_PN 9"
# 5. Linux's fragmented echo requests and its reassembly of ours.
cap tun-ping-frag tun "" sh -c "ip netns exec $NI_NS ping -c 2 -i 0.2 -s 4000 $NI_PN >/dev/null"
# 6. Ethernet: Linux's ARP request and reply, then a GET.
cap tap-arp-http tap "" sh -c "ip netns exec $NI_NS ping -c 1 $NI_PN >/dev/null;
  ip netns exec $NI_NS curl -sS -o /dev/null http://$NI_PN/bytes/5000"
ls -la "$out"
