#!/usr/bin/env bash
# symcheck.sh -- the library is pure: its objects may need, from outside
# the library, only mem* and str* functions and the compiler's own integer
# helpers (libgcc / compiler-rt). Anything else (printf, malloc, time,
# errno, a float helper) fails, naming the object that needs it.
# Also: no object may hold mutable static data (.data/.bss): DESIGN.md
# "no globals, no static mutable data".
#
# Usage: tools/symcheck.sh NM ARCHIVE [--no-static-data]
#   NM       nm of the target (nm, arm-none-eabi-nm, ...)
#   ARCHIVE  libpurenet.a
# With --no-static-data, objects defining symbols in .data/.bss (nm types
# d D b B, and common C) fail too.
set -euo pipefail

nm=$1
ar=$2
nodata=${3:-}
[ -f "$ar" ] || { echo "symcheck: $ar not found" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# POSIX format with -A: "archive[object]: symbol type [value size]".
"$nm" -A -P -g --defined-only "$ar" 2>/dev/null | awk '{print $2}' | sort -u > "$tmp/def"
"$nm" -A -P -u "$ar" 2>/dev/null | awk '{o=$1; sub(/^.*\[/, "", o); sub(/\]:$/, "", o); print $2, o}' |
  sort -u > "$tmp/undef"

# A strong definition in two objects: a link that pulls both fails, one
# that pulls only one silently picks it (e.g. a stub of min_stubs.c and
# the real function).
"$nm" -A -P -g --defined-only "$ar" 2>/dev/null |
  awk '$3 ~ /^[TDBRC]$/ {o=$1; sub(/^.*\[/, "", o); sub(/\]:$/, "", o); print $2, o}' |
  sort | awk '$1 == prev { print $1, prevo, $2 } { prev = $1; prevo = $2 }' > "$tmp/dup"

# Undefined symbols not defined by another object of the archive.
awk 'NR==FNR {def[$1]=1; next} !($1 in def)' "$tmp/def" "$tmp/undef" > "$tmp/ext"

# What a freestanding C program can count on having.
allow='^(mem[a-z0-9_]*|str[a-z0-9_]*'
# ARM EABI run-time helpers for integer division, 64-bit shifts and
# compares, and the memcpy/memset variants the compiler emits.
allow+='|__aeabi_(u?idiv(mod)?|u?ldivmod|llsl|llsr|lasr|lmul|u?lcmp|mem(cpy|move|set|clr)[48]?|uread[48]|uwrite[48]|unwind_cpp_pr[0-2])'
allow+='|__gnu_(thumb1_case_[a-z0-9]+|ldivmod_helper|uldivmod_helper)'
# libgcc integer helpers (any target): 64/128-bit division, shifts, bit ops.
allow+='|__(u?div|u?mod|udivmod|mul|ashl|ashr|lshr|u?cmp|neg)[dt]i[34]'
allow+='|__(popcount|clz|ctz|ffs|parity|bswap)[sdt]i2'
# -fstack-protector (on by default in some distributions' compilers, not
# Debian's): the firmware supplies the guard, as with mem*.
allow+='|__stack_chk_(fail|guard)'
# i386 PIC only.
allow+='|_GLOBAL_OFFSET_TABLE_'
allow+=')$'

bad=0
while read -r sym o1 o2; do
  echo "symcheck: '$sym' is defined in both $o1 and $o2" >&2
  bad=1
done < "$tmp/dup"
while read -r sym obj; do
  [ -n "$sym" ] || continue
  if [[ $sym =~ $allow ]]; then
    continue
  fi
  case $sym in
    __aeabi_[fd]* | __aeabi_[il]2[fd] | __aeabi_ui2[fd] | __aeabi_ul2[fd] | __*[sdt]f[23] | __float* | __fix*)
      why="soft-float helper: lib/ must use integer (fixed-point) arithmetic" ;;
    *) why="not mem*/str* nor a compiler helper" ;;
  esac
  echo "symcheck: $obj needs '$sym' ($why)" >&2
  bad=1
done < "$tmp/ext"

if [ "$nodata" = --no-static-data ]; then
  # Types d/D initialised data, b/B bss, C common; s/S small data (some targets).
  "$nm" -A -P --defined-only "$ar" 2>/dev/null |
    awk '$3 ~ /^[dDbBCsS]$/ {o=$1; sub(/^.*\[/, "", o); sub(/\]:$/, "", o); print o, $2, $3}' > "$tmp/data"
  while read -r obj sym typ; do
    echo "symcheck: $obj has mutable static data '$sym' (nm type $typ): DESIGN.md forbids it" >&2
    bad=1
  done < "$tmp/data"
fi

if [ $bad -ne 0 ]; then
  echo "symcheck: $ar is not pure (see above)" >&2
  exit 1
fi
n=$(awk '{print $1}' "$tmp/ext" | sort -u | grep -c . || true)
echo "symcheck: $ar ok ($n external symbols: $(awk '{print $1}' "$tmp/ext" | sort -u | tr '\n' ' '))"
