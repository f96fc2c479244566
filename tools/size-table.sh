#!/usr/bin/env bash
# size-table.sh -- per-module code and data size of the Cortex-M build,
# full and minimal side by side, and the arena of the smallest useful
# configuration. Printed by `make cross-cortex-m`.
#
# Usage: tools/size-table.sh SIZE [options]
#   --full A.a FLAGS     the full build (archive, feature flags)
#   --min A.a FLAGS      the minimal build
#   --udp A.a FLAGS      the UDP-only build (total line only)
#   --arena F            tools/arena-size output of the minimal build on
#                        the target (qemu-arm)
#   --arena-full F       the same for the full build
#   --arena-host F       the same program on the build machine (full lib)
#   --image NAME ELF     a linked program (whole public API reachable,
#                        --gc-sections): one line with its size
set -euo pipefail

size=$1
shift
full= full_flags= min= min_flags= udp= udp_flags= arena= arena_full= host_arena=
images=() image_names=()
while [ $# -gt 0 ]; do
  case $1 in
    --full) full=$2 full_flags=$3; shift 3 ;;
    --min) min=$2 min_flags=$3; shift 3 ;;
    --udp) udp=$2 udp_flags=$3; shift 3 ;;
    --arena) arena=$2; shift 2 ;;
    --arena-full) arena_full=$2; shift 2 ;;
    --arena-host) host_arena=$2; shift 2 ;;
    --image) image_names+=("$2") images+=("$3"); shift 3 ;;
    *) echo "size-table: unknown argument $1" >&2; exit 2 ;;
  esac
done

# "module text data bss" per object (Berkeley format, one line per member).
per_obj() {
  "$size" "$1" | awk 'NR > 1 { n = $6; sub(/\.o$/, "", n); print n, $1, $2, $3 }'
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
per_obj "$full" > "$tmp/full"
per_obj "$min" > "$tmp/min"
cat "$tmp/full" "$tmp/min" | awk '{print $1}' | sort -u > "$tmp/mods"

echo "purenet on Cortex-M4, bytes per module ($(basename "$size") of each object in libpurenet.a)"
awk -v ff="${full_flags:-(none)}" -v mf="${min_flags:-(none)}" '
  FNR == 1 { file++ }
  file == 1 { order[++n] = $1; next }
  { f = file - 1; t[f, $1] = $2; d[f, $1] = $3; b[f, $1] = $4 }
  END {
    printf "  %-14s | %8s %6s %6s | %8s %6s %6s\n", "", (ff == "(none)" ? "full" : "PN_FEATURES"), "", "", "minimal", "", ""
    printf "  %-14s | %8s %6s %6s | %8s %6s %6s\n", "module", "text", "data", "bss", "text", "data", "bss"
    printf "  %s\n", "---------------+------------------------+------------------------"
    for (i = 1; i <= n; i++) {
      m = order[i]
      line = sprintf("  %-14s |", m)
      for (f = 1; f <= 2; f++) {
        if ((f, m) in t) {
          line = line sprintf(" %8d %6d %6d", t[f, m], d[f, m], b[f, m])
          T[f] += t[f, m]; D[f] += d[f, m]; B[f] += b[f, m]
        } else
          line = line sprintf(" %8s %6s %6s", "-", "", "")
        line = line (f == 1 ? " |" : "")
      }
      print line
    }
    printf "  %s\n", "---------------+------------------------+------------------------"
    printf "  %-14s | %8d %6d %6d | %8d %6d %6d\n", "total", T[1], D[1], B[1], T[2], D[2], B[2]
    printf "  %s = %s\n", (ff == "(none)" ? "full   " : "PN_FEATURES"), ff
    printf "  minimal = %s\n", mf
  }' "$tmp/mods" "$tmp/full" "$tmp/min"

if [ -n "$udp" ]; then
  "$size" -t "$udp" | awk -v f="$udp_flags" 'END { printf "  UDP-only build (%s): text %d, data %d, bss %d\n", f, $1, $2, $3 }'
fi

for i in "${!images[@]}"; do
  name=${image_names[$i]} elf=${images[$i]}
  [ -f "$elf" ] || continue
  "$size" "$elf" | awk -v n="$name" 'NR == 2 {
    printf "  linked image, %s: text %d, data %d, bss %d\n", n, $1, $2, $3 }'
done

get() { awk -v k="$1" '$1 == k { print $2 }' "$2" 2>/dev/null; }
if [ -n "$arena" ] && [ -f "$arena" ]; then
  a1500=$(get arena_mtu1500 "$arena") a576=$(get arena_mtu576 "$arena")
  f1500= h1500=
  [ -n "$arena_full" ] && [ -f "$arena_full" ] && f1500=$(get arena_mtu1500 "$arena_full")
  [ -n "$host_arena" ] && [ -f "$host_arena" ] && h1500=$(get arena_mtu1500 "$host_arena")
  echo
  echo "Smallest useful configuration (tools/arena-size.c): Ethernet + ARP (2 neighbours),"
  echo "1 TCP socket with 2 KiB send + 2 KiB receive buffer, 1 UDP socket, 4 RX + 4 TX frame buffers:"
  echo "  pn_arena_size = $a1500 bytes on Cortex-M4, minimal build, MTU 1500 ($a576 bytes at MTU 576)"
  [ -n "$f1500" ] && echo "                  $f1500 bytes with the full build; ${h1500:-?} bytes on x86-64 (full, 8-byte pointers)"
  echo "  That is all the RAM the stack uses: no heap, no static data (checked), plus the caller's stack."
fi
echo
echo "For comparison, lwIP's own published figure: \"about 40 KB of code, tens of KB of RAM\"."
