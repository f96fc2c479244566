#!/usr/bin/env bash
# bench/run.sh -- purenet beside lwIP: wall-clock runs alternating
# A B A B (so machine drift hits both alike), medians and ratios, then one
# callgrind run of each for instruction counts (these do not drift with
# load), the top functions of each purenet profile, and the footprint.
#
#   bench/run.sh [--quick] [--reps N] [--bin DIR] [--out FILE]
#
# --quick   small sizes, 1 rep, callgrind only for W1 (MTU 1500), W2, W3
#           (CI: checks that everything builds and runs; no thresholds)
# --bin     where bench_purenet and bench_lwip are (default build/bench)
# --out     also write the markdown report to FILE
# Profiles (callgrind_annotate output) go to $BIN/cg/.
set -euo pipefail
cd "$(dirname "$0")/.."

QUICK=0
REPS=5
BIN=build/bench
OUT=
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1; REPS=1 ;;
    --reps) REPS=$2; shift ;;
    --bin) BIN=$2; shift ;;
    --out) OUT=$2; shift ;;
    *) echo "usage: $0 [--quick] [--reps N] [--bin DIR] [--out FILE]" >&2; exit 2 ;;
  esac
  shift
done
P=$BIN/bench_purenet
L=$BIN/bench_lwip
CG=$BIN/cg
mkdir -p "$CG"
for b in "$P" "$L"; do [ -x "$b" ] || { echo "run.sh: $b missing (make bench builds it)" >&2; exit 1; }; done
command -v valgrind >/dev/null || { echo "run.sh: valgrind missing (tools/ci-deps-bench.sh)" >&2; exit 1; }

# glibc copies of 2 KiB and more use rep movsb, which callgrind counts as
# one instruction per byte: keep glibc on its vector loops for the counts.
export GLIBC_TUNABLES=glibc.cpu.x86_rep_movsb_threshold=1073741824

# Sizes: wall-clock runs (big) and callgrind runs (smaller; per-unit counts
# do not depend on the size once setup is outside the measured function).
if [ "$QUICK" = 1 ]; then
  W1_BYTES=$((4 << 20));  W1_CG_BYTES=$((2 << 20))
  W2_N=20000;             W2_CG_N=5000
  W3_N=200;               W3_CG_N=200
  W4_N=5000;              W4_CG_N=2000;   W4_BIG=1000
else
  W1_BYTES=$((256 << 20)); W1_CG_BYTES=$((32 << 20))
  W2_N=1000000;            W2_CG_N=50000
  W3_N=2000;               W3_CG_N=2000
  W4_N=100000;             W4_CG_N=20000; W4_BIG=100000
fi

REPORT=$(mktemp)
trap 'rm -f "$REPORT"' EXIT
say() { printf '%s\n' "$*" | tee -a "$REPORT"; }

# kv LINE KEY -> value of KEY=... in a result line
kv() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -1; }
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {if (NR==0) print "n/a"; else if (NR%2) print v[(NR+1)/2]; else printf "%.6g\n", (v[NR/2]+v[NR/2+1])/2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b+0 == 0 || a == "n/a" || b == "n/a") print "n/a"; else printf "%.2f\n", a/b }'; }
fmt() { awk -v a="$1" -v d="${2:-2}" 'BEGIN { if (a == "n/a" || a == "") print "n/a"; else printf "%.*f\n", d, a }'; }

run1() { # BIN ARGS... -> result line (fails loudly)
  local out
  if ! out=$("$@" 2>&1); then echo "run.sh: '$*' failed: $out" >&2; exit 1; fi
  printf '%s\n' "$out" | grep '^stack=' | tail -1
}

# Wall runs of both stacks on one CPU (BENCH_CPU, default the first this
# script may use). The cores of a virtual machine need not be alike: on
# this 2-core EPYC one ran both stacks about 30% slower than the other
# (W1 at MTU 1500: purenet 55.5 vs 41.7 Gbit/s, lwIP 12.5 vs 8.75), so
# unpinned alternating runs compared the cores as much as the stacks.
PIN=()
PIN_CPU=none
if command -v taskset >/dev/null; then
  PIN_CPU=${BENCH_CPU:-$(taskset -pc $$ | sed 's/.*: *//; s/[,-].*//')}
  PIN=(taskset -c "$PIN_CPU")
fi

# wall NAME METRIC PURENET_ARGS | LWIP_ARGS (or "-" for none): alternates
# A B A B, sets WP WL (medians of METRIC) and RP RL (median peak RSS, KiB).
wall() {
  local metric=$1 pa=$2 la=$3 i vp=() vl=() rp=() rl=() line
  for ((i = 0; i < REPS; i++)); do
    line=$(run1 "${PIN[@]}" "$P" $pa); vp+=("$(kv "$line" "$metric")"); rp+=("$(kv "$line" rss_kib)")
    if [ "$la" != - ]; then
      line=$(run1 "${PIN[@]}" "$L" $la); vl+=("$(kv "$line" "$metric")"); rl+=("$(kv "$line" rss_kib)")
    fi
  done
  WP=$(median "${vp[@]}"); RP=$(median "${rp[@]}")
  if [ "$la" != - ]; then WL=$(median "${vl[@]}"); RL=$(median "${rl[@]}"); else WL=n/a; RL=n/a; fi
}

# cg TAG BIN ARGS...: one callgrind run of the measured function; sets IR
# (instructions), CGLINE (the program's result line); keeps the profile.
cg() {
  local tag=$1 f="$CG/$1.out"; shift
  local out
  if ! out=$(valgrind --tool=callgrind --collect-atstart=no --toggle-collect='bench_measured_*' \
      --callgrind-out-file="$f" "$@" 2>"$CG/$tag.log"); then
    echo "run.sh: callgrind '$*' failed:" >&2; cat "$CG/$tag.log" >&2; exit 1
  fi
  CGLINE=$(printf '%s\n' "$out" | grep '^stack=' | tail -1)
  IR=$(sed -n 's/^totals: *//p' "$f" | awk '{print $1}')
  callgrind_annotate --threshold=99 "$f" 2>/dev/null | grep -E '^ *[0-9,]+ \(' > "$CG/$tag.top" || true
}
per() { awk -v a="$1" -v b="$2" -v d="${3:-1}" 'BEGIN { if (b+0 == 0) print "n/a"; else printf "%.*f\n", d, a/b }'; }
top() { # TAG N -> "function pct%; ..." of the self-cost top N
  grep -v 'PROGRAM TOTALS' "$CG/$1.top" | head -n "$2" |
    sed -E 's/^ *[0-9,]+ \( *([0-9.]+)%\) +([^ ]*).*/\2 \1%/; s/^[^ ]*:([^ :]+ )/\1/' | paste -sd';' | sed 's/;/; /g'
}

say "## purenet vs lwIP $(date -u +%Y-%m-%d)"
say ""
say "- machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
say "- commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- lib include 2>/dev/null || echo ' (lib/ or include/ modified in the working tree)')"
say "- compiler: $(${CC:-cc} --version | head -1), -O2; lwIP: Debian liblwip-dev $(dpkg-query -W -f='${Version}' liblwip-dev 2>/dev/null || echo '?') (shared library)"
say "- wall-clock: median of $REPS alternating runs each, all on CPU $PIN_CPU (taskset); instructions: callgrind, measured function only, GLIBC_TUNABLES=$GLIBC_TUNABLES"
say ""
say "| workload | metric | purenet | lwIP | purenet/lwIP |"
say "|---|---|---:|---:|---:|"

# ---- W1 ----------------------------------------------------------------
wall gbps "w1 mtu=1500 bytes=$W1_BYTES" "w1 mtu=1500 bytes=$W1_BYTES"
say "| W1 bulk TCP, MTU 1500, $((W1_BYTES >> 20)) MiB | Gbit/s (wall, loaded machine) | $(fmt "$WP") | $(fmt "$WL") | $(ratio "$WP" "$WL") |"
say "| | peak RSS, KiB | $RP | $RL | $(ratio "$RP" "$RL") |"
cg w1_1500_purenet "$P" w1 mtu=1500 bytes=$W1_CG_BYTES; IP=$IR; SP=$(kv "$CGLINE" segs); BP=$(kv "$CGLINE" bytes)
cg w1_1500_lwip "$L" w1 mtu=1500 bytes=$W1_CG_BYTES; IL=$IR; SL=$(kv "$CGLINE" segs); BL=$(kv "$CGLINE" bytes)
a=$(per "$IP" "$BP" 3); b=$(per "$IL" "$BL" 3)
say "| | instructions / payload byte | $a | $b | $(ratio "$a" "$b") |"
a=$(per "$IP" "$SP" 0); b=$(per "$IL" "$SL" 0)
say "| | instructions / data segment | $a | $b | $(ratio "$a" "$b") |"
for mtu in 9000 65535; do
  wall gbps "w1 mtu=$mtu bytes=$W1_BYTES" -
  if [ "$QUICK" = 1 ]; then IR=0; CGLINE=; else cg w1_${mtu}_purenet "$P" w1 mtu=$mtu bytes=$W1_CG_BYTES; fi
  say "| W1 bulk TCP, MTU $mtu | Gbit/s (wall) / instr per byte / per segment / RSS KiB | $(fmt "$WP") / $(per "$IR" "$(kv "$CGLINE" bytes)" 3) / $(per "$IR" "$(kv "$CGLINE" segs)" 0) / $RP | (MSS fixed at 1460) | |"
done

# ---- W2 ----------------------------------------------------------------
wall pps "w2udp count=$W2_N" "w2udp count=$W2_N"
cg w2udp_purenet "$P" w2udp count=$W2_CG_N; IP=$IR
cg w2udp_lwip "$L" w2udp count=$W2_CG_N; IL=$IR
say "| W2 64-byte UDP datagrams | packets/s (wall) | $(fmt "$WP" 0) | $(fmt "$WL" 0) | $(ratio "$WP" "$WL") |"
a=$(per "$IP" "$W2_CG_N" 0); b=$(per "$IL" "$W2_CG_N" 0)
say "| | instructions / datagram (send + receive) | $a | $b | $(ratio "$a" "$b") |"
wall pps "w2tcp count=$W2_N" "w2tcp count=$W2_N"
cg w2tcp_purenet "$P" w2tcp count=$W2_CG_N; IP=$IR; AP=$(kv "$CGLINE" acks)
cg w2tcp_lwip "$L" w2tcp count=$W2_CG_N; IL=$IR; AL=$(kv "$CGLINE" acks)
say "| W2 64-byte TCP writes, no-delay | writes/s (wall) | $(fmt "$WP" 0) | $(fmt "$WL" 0) | $(ratio "$WP" "$WL") |"
a=$(per "$IP" "$W2_CG_N" 0); b=$(per "$IL" "$W2_CG_N" 0)
say "| | instructions / write (send + receive + ACKs) | $a | $b | $(ratio "$a" "$b") |"
say "| | ACK segments per 100 writes | $(per "$((AP * 100))" "$W2_CG_N" 1) | $(per "$((AL * 100))" "$W2_CG_N" 1) | |"

# ---- W3 ----------------------------------------------------------------
wall cps "w3 count=$W3_N" "w3 count=$W3_N"
cg w3_purenet "$P" w3 count=$W3_CG_N; IP=$IR; FP=$(kv "$CGLINE" segs)
cg w3_lwip "$L" w3 count=$W3_CG_N; IL=$IR; FL=$(kv "$CGLINE" segs)
say "| W3 churn ($W3_N conns: connect, 100 B, 1 KiB, close) | connections/s (wall) | $(fmt "$WP" 0) | $(fmt "$WL" 0) | $(ratio "$WP" "$WL") |"
a=$(per "$IP" "$W3_CG_N" 0); b=$(per "$IL" "$W3_CG_N" 0)
say "| | instructions / connection | $a | $b | $(ratio "$a" "$b") |"
say "| | frames / connection | $(per "$FP" "$W3_CG_N" 1) | $(per "$FL" "$W3_CG_N" 1) | |"

# ---- W4 ----------------------------------------------------------------
wall ns_per_pkt "w4 conns=10 count=$W4_N" -; N10=$WP
wall ns_per_pkt "w4 conns=$W4_BIG count=$W4_N" -; NBIG=$WP; RBIG=$RP
if [ "$QUICK" = 1 ]; then # --quick: wall-clock runs only (time)
  I10=n/a; S10=n/a; IBIG=n/a; SBIG=n/a
else
  cg w4_10_purenet "$P" w4 conns=10 count=$W4_CG_N; I10=$(per "$IR" "$W4_CG_N" 0); S10=$(per "$(kv "$CGLINE" segs)" "$W4_CG_N" 2)
  cg w4_big_purenet "$P" w4 conns=$W4_BIG count=$W4_CG_N; IBIG=$(per "$IR" "$W4_CG_N" 0); SBIG=$(per "$(kv "$CGLINE" segs)" "$W4_CG_N" 2)
fi
say "| W4 64-byte writes over $W4_BIG vs 10 connections | instructions / write at $W4_BIG, at 10 (ratio) | $IBIG, $I10 ($(ratio "$IBIG" "$I10")) | n/a | |"
say "| | frames / write at $W4_BIG, at 10 | $SBIG, $S10 | | |"
say "| | ns / write at $W4_BIG, at 10 (wall) (ratio) | $(fmt "$NBIG" 0), $(fmt "$N10" 0) ($(ratio "$NBIG" "$N10")) | | |"
say "| | peak RSS at $W4_BIG, KiB | $RBIG | | |"

# ---- W5 ----------------------------------------------------------------
line=$(run1 "$P" w5)
LIBA=${LIB_A:-build/libpurenet.a}
TEXT=$(size -t "$LIBA" 2>/dev/null | tail -1 | awk '{print $1}')
LWTEXT=$(size /usr/lib/x86_64-linux-gnu/liblwip.so.0 2>/dev/null | tail -1 | awk '{print $1}')
say "| W4/W5 arena per TCP connection (control block, no data buffers) | bytes | $(kv "$line" bytes_per_conn) | (malloc) | |"
say "| W5 smallest useful config (1 TCP 2K/2K, ARP, 1 UDP) | arena bytes | $(kv "$line" smallest_arena) (usable: $(kv "$line" smallest_ok)) | (malloc) | |"
say "| W5 library text, x86-64 -O2 | bytes | ${TEXT:-n/a} ($LIBA) | ${LWTEXT:-n/a} (liblwip.so.0, all modules) | $(ratio "${TEXT:-0}" "${LWTEXT:-0}") |"
say ""
say "Top self-cost functions (callgrind, purenet):"
say ""
for t in w1_1500_purenet w1_9000_purenet w1_65535_purenet w2udp_purenet w2tcp_purenet w3_purenet w4_10_purenet w4_big_purenet; do
  [ -f "$CG/$t.top" ] || continue
  say "- $t: $(top $t 8)"
done
say ""
say "Top self-cost functions (callgrind, lwIP):"
say ""
for t in w1_1500_lwip w2udp_lwip; do
  say "- $t: $(top $t 6)"
done

if [ -n "$OUT" ]; then cp "$REPORT" "$OUT"; fi
