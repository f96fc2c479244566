# tools/interop/lib.sh -- shared by the interop cases (sourced, not run).
#
# Each case gets its own network namespace (pn-int-<case>-<pid>) with the
# pn-tun device inside it: Linux is 10.0.0.1, purenet 10.0.0.2. Nothing
# leaves the namespace. ni_cleanup (installed as an EXIT trap by ni_setup)
# stops the pn-tun processes this case started and deletes the namespace,
# which takes the device with it.

set -euo pipefail

: "${PN_TUN:?PN_TUN must point at the pn-tun binary}"
NI_CASE=${NI_CASE:-case}
NI_NS="pn-int-${NI_CASE}-$$"
NI_TMP=$(mktemp -d "/tmp/pn-interop-${NI_CASE}.XXXXXX")
NI_PIDS=()
NI_DEV=pntun0
NI_MODE=tun
NI_LINUX=10.0.0.1
NI_PN=10.0.0.2
# A case's results: "RESULT <case> <what> <pass|FAIL> <detail>" lines.
NI_RESULTS=${NI_RESULTS:-/dev/stderr}
NI_FAILS=0
NI_IMPAIR=${NI_IMPAIR:-}

ni_cleanup() {
  local p
  for p in "${NI_PIDS[@]:-}"; do
    [ -n "$p" ] && kill "$p" 2>/dev/null || true
  done
  for p in "${NI_PIDS[@]:-}"; do
    [ -n "$p" ] && wait "$p" 2>/dev/null || true
  done
  ip netns pids "$NI_NS" 2>/dev/null | while read -r q; do kill "$q" 2>/dev/null || true; done
  ip netns del "$NI_NS" 2>/dev/null || true
  if [ "${NI_KEEP:-0}" = 1 ]; then echo "kept $NI_TMP" >&2; else rm -rf "$NI_TMP"; fi
}

ni_in() { ip netns exec "$NI_NS" "$@"; }

# ni_setup [tun|tap]: the namespace and a persistent device in it,
# configured as README says (address, link up); pn-tun attaches to it.
ni_setup() {
  NI_MODE=${1:-tun}
  NI_DEV=pn${NI_MODE}0
  NI_TAP_ARG=
  [ "$NI_MODE" = tap ] && NI_TAP_ARG=--tap
  trap ni_cleanup EXIT
  trap 'exit 130' INT TERM
  ip netns add "$NI_NS"
  ni_in ip link set lo up
  ni_in ip tuntap add dev "$NI_DEV" mode "$NI_MODE"
  ni_in sysctl -qw "net.ipv6.conf.$NI_DEV.disable_ipv6=1" || true
  ni_in ip addr add "$NI_LINUX/24" dev "$NI_DEV"
  # The device's queue toward pn-tun (default 500 frames) overflows when
  # pn-tun is starved of CPU for a moment; Linux's ACKs lost there cost
  # RTOs. A deeper queue, as on any busy host.
  ni_in ip link set "$NI_DEV" txqueuelen 4000
  ni_in ip link set "$NI_DEV" up
}

# ni_start_pn NAME [pn-tun args...]: pn-tun attached to the device, logging
# to $NI_TMP/NAME.log (stderr) and NAME.out; waits for its "ready" line.
ni_start_pn() {
  local name=$1; shift
  ip netns exec "$NI_NS" "$PN_TUN" --dev "$NI_DEV" --addr "$NI_PN/24" $NI_TAP_ARG "$@" \
      >"$NI_TMP/$name.out" 2>"$NI_TMP/$name.log" &
  NI_PN_PID=$!
  NI_PIDS+=($NI_PN_PID)
  local i
  for i in $(seq 100); do
    grep -q 'pn-tun: ready' "$NI_TMP/$name.log" 2>/dev/null && return 0
    kill -0 "$NI_PN_PID" 2>/dev/null || { cat "$NI_TMP/$name.log" >&2; return 1; }
    sleep 0.05
  done
  return 1
}

# ni_stop_pn: SIGINT (graceful close, stats), wait for exit.
ni_stop_pn() {
  local p=${1:-$NI_PN_PID}
  kill -INT "$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || true
}

ni_result() { # what pass|FAIL detail...
  local what=$1 st=$2; shift 2
  echo "RESULT $NI_CASE $what $st $*" >&2
  [ "$NI_RESULTS" = /dev/stderr ] || echo "RESULT $NI_CASE $what $st $*" >> "$NI_RESULTS"
  [ "$st" = pass ] || NI_FAILS=$((NI_FAILS + 1))
}

ni_now() { date +%s.%N; }
# ni_rate BYTES T0 T1 -> "X.X MB/s"
ni_rate() { awk -v b="$1" -v a="$2" -v z="$3" 'BEGIN { d = z - a; if (d <= 0) d = 1e-6; printf "%.1f MB/s (%.2f s)", b / d / 1e6, d }'; }

# Expected sha256 of N bytes of pn-tun's test pattern.
ni_pattern_sha() { "$PN_TUN" --gen "$1" | sha256sum | cut -d' ' -f1; }

ni_finish() {
  [ "$NI_FAILS" -eq 0 ] || { echo "$NI_CASE: $NI_FAILS check(s) failed; logs in $NI_TMP" >&2; NI_KEEP=1; exit 1; }
  exit 0
}
