#!/usr/bin/env bash
# Compile-time budget: user CPU seconds of `g++ -std=c++20 -O2 -c` for each TU here, and its
# ratio to baseline.cpp, measured in one run, each TU compiled REPEAT times (the minimum counts).
# Usage: benchmarks/compile/run.sh [extra compiler flags...]
# e.g.   benchmarks/compile/run.sh -DDSPY_SEPARATE_COMPILATION   (the compiled part's mode)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cxx="${CXX:-g++}"
repeat="${REPEAT:-3}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

measure() {  # prints min user seconds and max RSS (MiB) over $repeat runs
  local src="$1" best="" rss=0 t m
  shift
  for ((i = 0; i < repeat; ++i)); do
    /usr/bin/time -f '%U %M' -o "$out/time" "$cxx" -std=c++20 -O2 -I"$root/include" "$@" -c "$src" -o "$out/o.o"
    read -r t m <"$out/time"
    if [[ -z "$best" ]] || awk "BEGIN{exit !($t < $best)}"; then best="$t"; fi
    ((m > rss)) && rss="$m"
  done
  echo "$best $((rss / 1024))"
}

read -r base base_rss < <(measure "$here/baseline.cpp" "$@")
printf '%-20s %8s %8s %8s\n' TU "user s" ratio "MiB"
printf '%-20s %8.2f %8s %8d\n' baseline "$base" 1.00 "$base_rss"
for tu in core_empty all_empty module_program; do
  read -r t rss < <(measure "$here/$tu.cpp" "$@")
  printf '%-20s %8.2f %8.2f %8d\n' "$tu" "$t" "$(awk "BEGIN{print $t / $base}")" "$rss"
done
