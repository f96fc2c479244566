#!/bin/sh
# fuzz-run.sh BINARY CORPUS_DIR OUT_DIR SECONDS [--smoke]
#
# Run one AFL++ target for SECONDS (afl-fuzz -V) from CORPUS_DIR with the
# target's dictionary, then print one line from its fuzzer_stats: exec/s,
# executions, paths, crashes, hangs. With --smoke (CI): fail when
# afl-fuzz found a crash or a hang, naming the inputs and how to replay
# them. A new finding in a few seconds of random search is reported but
# does not fail the smoke run unless FUZZ_SMOKE_STRICT=1: CI must not fail
# by chance; the deterministic part of the smoke run is the replay of the
# corpus and of fuzz/crashes. Used by make fuzz-run, make fuzz-smoke and
# tools/fuzz-campaign.sh.
set -eu
bin=$1 in=$2 out=$3 secs=$4 mode=${5:-}
t=$(basename "$bin")
case $t in
  fuzz_stack|fuzz_api) dict=fuzz/dict/stack.dict ;;
  fuzz_wire_*) dict=fuzz/dict/${t#fuzz_wire_}.dict ;;
  *) dict= ;;
esac
[ -n "$dict" ] && [ -f "$dict" ] && dictarg="-x $dict" || dictarg=
[ -d "$in" ] && [ -n "$(ls -A "$in")" ] || { echo "fuzz-run: $t: no corpus in $in"; exit 1; }
rm -rf "$out"
mkdir -p "$out"
# Containers rarely let afl-fuzz set the core pattern or the CPU governor;
# neither matters for correctness.
export AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 \
       AFL_FAST_CAL=1
[ "$mode" = --smoke ] && export AFL_NO_AFFINITY=1
# -t 1000: one input may take up to a second (long timer runs) before
# counting as a hang.
# shellcheck disable=SC2086
afl-fuzz -i "$in" -o "$out" -V "$secs" -t 1000 $dictarg -- "$bin" >"$out/afl.log" 2>&1 || {
  echo "fuzz-run: $t: afl-fuzz failed:"; tail -20 "$out/afl.log"; exit 1; }
st="$out/default/fuzzer_stats"
[ -f "$st" ] || { echo "fuzz-run: $t: no fuzzer_stats"; tail -20 "$out/afl.log"; exit 1; }
get() { sed -n "s/^$1 *: *//p" "$st" | head -1; }
crashes=$(get saved_crashes); [ -n "$crashes" ] || crashes=$(get unique_crashes)
hangs=$(get saved_hangs); [ -n "$hangs" ] || hangs=$(get unique_hangs)
paths=$(get corpus_count); [ -n "$paths" ] || paths=$(get paths_total)
echo "fuzz-run: $t: $(get execs_per_sec) exec/s, $(get execs_done) execs in $(get run_time)s," \
     "corpus $paths, stability $(get stability), crashes $crashes, hangs $hangs"
if [ "${crashes:-0}" != 0 ] || [ "${hangs:-0}" != 0 ]; then
  for f in "$out"/default/crashes/id* "$out"/default/hangs/id*; do
    [ -f "$f" ] && echo "  found: $f  (replay: ${bin%/afl/*}/asan/$t '$f')"
  done
  if [ "$mode" = --smoke ]; then
    echo "fuzz-run: $t: NEW FINDING during the smoke run -- replay it, fix it, add it to fuzz/crashes/$t/"
    [ "${FUZZ_SMOKE_STRICT:-0}" = 1 ] && exit 1
  fi
fi
exit 0
