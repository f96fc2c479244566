#!/bin/sh
# fuzz-rate.sh [SECONDS] [TARGET...]
#
# Measures afl-fuzz exec/s per target on this machine (issue: "above 20,000
# executions per second on this 2-core machine"), two ways, each for
# SECONDS (default 30), one target at a time so nothing else competes:
#   single: one afl-fuzz instance (one core: afl-fuzz and the target are
#           bound to the same core, AFL++'s default);
#   pair:   a main and a secondary instance (-M/-S) on the same output
#           directory, one per core: the machine's total, summed from both
#           instances' fuzzer_stats.
# The first row is tools/fuzz-empty.c, a persistent loop that does nothing:
# the ceiling that afl-fuzz's per-execution round trip sets here.
# Run it on an idle machine; it prints load averages before and after.
set -eu
secs=${1:-30}
[ $# -gt 0 ] && shift
B=${BUILD:-build}
targets=${*:-fuzz_wire_eth fuzz_wire_arp fuzz_wire_ip4 fuzz_wire_icmp4 fuzz_wire_udp fuzz_wire_tcp fuzz_stack fuzz_api}
make --no-print-directory BUILD="$B" fuzz-afl >/dev/null
mkdir -p "$B/fuzz/rate-bin/empty-in"
afl-clang-fast -O2 tools/fuzz-empty.c -o "$B/fuzz/rate-bin/fuzz_empty" 2>/dev/null
echo seed >"$B/fuzz/rate-bin/empty-in/seed"
export AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 AFL_FAST_CAL=1
stat() { sed -n "s/^$2 *: *//p" "$1/fuzzer_stats" | head -1; }
run() { # name binary corpus dict
  out="$B/fuzz/rate/$1"
  dictarg=; [ -n "$4" ] && [ -f "$4" ] && dictarg="-x $4"
  rm -rf "$out"; mkdir -p "$out"
  # shellcheck disable=SC2086
  afl-fuzz -i "$3" -o "$out/single" -V "$secs" -t 1000 $dictarg -- "$2" >"$out/single.log" 2>&1 || true
  one=$(stat "$out/single/default" execs_per_sec)
  # shellcheck disable=SC2086
  afl-fuzz -i "$3" -o "$out/pair" -M m -V "$secs" -t 1000 $dictarg -- "$2" >"$out/m.log" 2>&1 &
  pid=$!
  # shellcheck disable=SC2086
  afl-fuzz -i "$3" -o "$out/pair" -S s -V "$secs" -t 1000 $dictarg -- "$2" >"$out/s.log" 2>&1 || true
  wait $pid || true
  m=$(stat "$out/pair/m" execs_per_sec); s=$(stat "$out/pair/s" execs_per_sec)
  cr=$(( $(stat "$out/single/default" saved_crashes) + $(stat "$out/pair/m" saved_crashes) + $(stat "$out/pair/s" saved_crashes) ))
  printf '| %s | %.0f | %.0f + %.0f = %.0f | %s |\n' "$1" "$one" "$m" "$s" "$(echo "$m + $s" | bc)" "$cr"
}
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg); ${secs}s per run; afl-fuzz $(afl-fuzz -h 2>&1 | sed -n 's/.*afl-fuzz++\([0-9a-z.]*\).*/\1/p' | head -1)"
echo "| target | exec/s, single instance | exec/s, -M + -S pair | crashes |"
echo "| --- | ---: | ---: | ---: |"
run fuzz_empty "$B/fuzz/rate-bin/fuzz_empty" "$B/fuzz/rate-bin/empty-in" ""
for t in $targets; do
  case $t in
    fuzz_stack|fuzz_api) d=fuzz/dict/stack.dict ;;
    *) d=fuzz/dict/${t#fuzz_wire_}.dict ;;
  esac
  run "$t" "$B/fuzz/afl/$t" "fuzz/corpus/$t" "$d"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
