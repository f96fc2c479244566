#!/bin/sh
# coverage-summary.sh OUTDIR GCDA_DIR...
#
# gcovr over lib/ from the given object directories (Check suites with the
# vectors, and the fuzz replayers over the corpus). Writes OUTDIR/coverage.html
# (per line), OUTDIR/coverage.json, OUTDIR/coverage-uncovered.txt (every
# function of lib/ never entered), and prints one summary line.
set -eu
out=$1; shift
mkdir -p "$out"
gcovr -r . --filter 'lib/' --exclude-unreachable-branches \
  --exclude-lines-by-pattern '.*FAIL\(".*' \
  --json "$out/coverage.json" --html-details "$out/coverage.html" "$@" >/dev/null
python3 - "$out" <<'PY'
import json, sys, os
out = sys.argv[1]
d = json.load(open(os.path.join(out, "coverage.json")))
lt = lc = bt = bc = ft = fc = 0
unc = []
for f in sorted(d["files"], key=lambda f: f["file"]):
    for l in f["lines"]:
        if l.get("gcovr/noncode"):
            continue
        lt += 1
        lc += l["count"] > 0
        for b in l.get("branches", []):
            bt += 1
            bc += b["count"] > 0
    for fn in f.get("functions", []):
        ft += 1
        if fn["execution_count"] > 0:
            fc += 1
        else:
            unc.append("%s:%d %s" % (f["file"], fn["lineno"], fn["name"]))
with open(os.path.join(out, "coverage-uncovered.txt"), "w") as fh:
    fh.write("\n".join(unc) + ("\n" if unc else ""))
pct = lambda a, b: 100.0 * a / b if b else 0.0
print("coverage: lib/ lines %.1f%% (%d/%d), branches %.1f%% (%d/%d), functions %.1f%% (%d/%d); "
      "uncovered functions in %s" % (pct(lc, lt), lc, lt, pct(bc, bt), bc, bt, pct(fc, ft), fc, ft,
                                     os.path.join(out, "coverage-uncovered.txt")))
PY
