#!/usr/bin/env bash
# `sigil check` (release build) over the whole shared Sigma corpus, every file read and
# checked (`--no-cache`) and with a warm check cache (written by a first run into a
# temporary XDG_CACHE_HOME), runs alternating. Prints the median and least wall and CPU
# (user + system) time of each, and whether both gave the same output and exit code.
#
# Usage: bench/check-corpus.sh [RUNS] [CORPUS]   (default 10 of each, ../shared/corpus/sigma)
# Needs: cargo, python3, GNU time (/usr/bin/time).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"
runs="${1:-10}"
corpus="${2:-$here/../../shared/corpus/sigma}"
[ -d "$corpus" ] || { echo "skipped: $corpus not found" >&2; exit 0; }
cd "$here/.."
cargo build --release -q -p sigil-cli
sigil="$(bench_release_dir)/sigil"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export XDG_CACHE_HOME="$work/cache"
# `sigil check` exits 1 on this corpus (it holds broken rules on purpose): the exit code
# is compared, not required to be 0.
check() {
  local rc=0
  /usr/bin/time -f "$1 %e %U %S" -a -o "$work/times" "$sigil" check "$corpus" "${@:2}" \
    > "$work/$1.out" 2> "$work/$1.err" || rc=$?
  echo "$rc" > "$work/$1.rc"
}
check warm-up   # writes the cache
: > "$work/times"
echo "# $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# $corpus: $(find "$corpus" -name '*.yml' -o -name '*.yaml' | wc -l) YAML files"
for _ in $(seq 1 "$runs"); do
  check no-cache --no-cache
  check cached
done
for f in out err rc; do
  cmp -s "$work/no-cache.$f" "$work/cached.$f" || echo "DIFFERENT: $f of the cached run"
done
echo "summary: $(tail -1 "$work/cached.err"), exit $(cat "$work/cached.rc")"
python3 - "$work/times" <<'PY'
import sys, statistics
from collections import defaultdict
runs = defaultdict(list)
for line in open(sys.argv[1]):
    if line.startswith("Command exited"):  # GNU time's note of the exit code
        continue
    mode, wall, user, sys_ = line.split()
    runs[mode].append((float(wall), float(user) + float(sys_)))
for mode in ("no-cache", "cached"):
    rows = runs[mode]
    walls, cpus = [r[0] for r in rows], [r[1] for r in rows]
    print(f"{mode:<9} wall median {statistics.median(walls):.3f} s (least {min(walls):.3f})  "
          f"cpu median {statistics.median(cpus):.3f} s (least {min(cpus):.3f})  runs {len(rows)}")
PY
