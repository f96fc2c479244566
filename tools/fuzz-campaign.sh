#!/bin/sh
# fuzz-campaign.sh [SECONDS] [TARGET...]
#
# The long campaigns (outside CI): each target (default: fuzz_stack and
# fuzz_api) runs under afl-fuzz for SECONDS (default 3600), one after the
# other so that each gets a core of this 2-core machine to itself. Then:
#   - the exec/s, crash and hang figures of each run are printed (and kept
#     in build/fuzz/campaign/<t>/summary.txt);
#   - every crash and hang is replayed through the ASan+UBSan replayer and
#     copied to fuzz/open/<t>/ (once fixed, move it to fuzz/crashes/<t>/,
#     which make fuzz-smoke replays for ever, and add a unit test);
#   - the queue is minimized with afl-cmin (and each input with afl-tmin
#     when FUZZ_TMIN=1) into build/fuzz/campaign/<t>/cmin; with
#     FUZZ_UPDATE_CORPUS=1 it replaces fuzz/corpus/<t> (commit it).
# Run from the repository root. Stop with Ctrl-C: afl-fuzz writes its
# stats on exit and the rest still runs.
set -eu
secs=${1:-3600}
[ $# -gt 0 ] && shift
targets=${*:-fuzz_stack fuzz_api}
B=${BUILD:-build}
for t in $targets; do
  make --no-print-directory BUILD="$B" "$B/fuzz/afl/$t" "$B/fuzz/asan/$t" >/dev/null
done
export AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
for t in $targets; do
  out="$B/fuzz/campaign/$t"
  echo "== $t: ${secs}s of afl-fuzz (output in $out)"
  mkdir -p "$B/fuzz/campaign"
  tools/fuzz-run.sh "$B/fuzz/afl/$t" "fuzz/corpus/$t" "$out" "$secs" | tee "$out.summary.txt" || true
  mv "$out.summary.txt" "$out/summary.txt" 2>/dev/null || true
  n=0
  for f in "$out"/default/crashes/id* "$out"/default/hangs/id*; do
    [ -f "$f" ] || continue
    n=$((n + 1))
    mkdir -p "fuzz/open/$t"
    name=$(basename "$(dirname "$f")")-$(sha1sum "$f" | cut -c1-16)
    cp "$f" "fuzz/open/$t/$name"
    echo "-- $t: $f -> fuzz/open/$t/$name"
    timeout 60 "$B/fuzz/asan/$t" "$f" 2>&1 | tail -5 || true
  done
  echo "== $t: $n crashes/hangs"
  rm -rf "$out/cmin"
  afl-cmin -i "$out/default/queue" -o "$out/cmin" -t 2000 -- "$B/fuzz/afl/$t" >/dev/null 2>&1 || \
    echo "   afl-cmin failed; queue left in $out/default/queue"
  if [ "${FUZZ_TMIN:-0}" = 1 ] && [ -d "$out/cmin" ]; then
    for f in "$out"/cmin/*; do
      afl-tmin -i "$f" -o "$f.min" -t 2000 -- "$B/fuzz/afl/$t" >/dev/null 2>&1 && mv "$f.min" "$f"
    done
  fi
  if [ "${FUZZ_UPDATE_CORPUS:-0}" = 1 ] && [ -d "$out/cmin" ]; then
    tools/fuzz-corpus-import.sh "$t" "$out/cmin"
    "$B/fuzz/asan/$t" "fuzz/corpus/$t" | tail -1
    echo "   commit fuzz/corpus/$t"
  fi
done
