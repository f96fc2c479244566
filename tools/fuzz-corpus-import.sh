#!/bin/sh
# fuzz-corpus-import.sh TARGET DIR
#
# Replace fuzz/corpus/TARGET with the (afl-cmin minimized) inputs in DIR:
# seeds keep their seed-* names (AFL's "orig:" part), the rest are named by
# the first 16 hex digits of their SHA-1, so names are short and stable.
set -eu
t=$1 dir=$2
[ -d "$dir" ] && [ -n "$(ls -A "$dir")" ] || { echo "fuzz-corpus-import: $dir is empty"; exit 1; }
rm -rf "fuzz/corpus/$t"
mkdir -p "fuzz/corpus/$t"
for f in "$dir"/*; do
  [ -f "$f" ] || continue
  b=$(basename "$f")
  case $b in
    *orig:*) n=${b##*orig:} ;;
    *) n=$(sha1sum "$f" | cut -c1-16) ;;
  esac
  cp "$f" "fuzz/corpus/$t/$n"
done
echo "fuzz-corpus-import: fuzz/corpus/$t: $(ls "fuzz/corpus/$t" | wc -l) inputs"
