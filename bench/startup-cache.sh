#!/usr/bin/env bash
# Start-up of `sigil hunt` with and without the rule cache: every SigmaHQ rules/windows
# rule loaded, processed and compiled, over one small EVTX file, one thread; runs of
# `--no-cache` and of a warm cache (written by a first run into a temporary
# XDG_CACHE_HOME) alternate. Prints the median and least wall and CPU (user + system)
# time of each.
#
# Usage: bench/startup-cache.sh [RUNS]   (default 8 of each)
# Needs: cargo, python3, GNU time (/usr/bin/time).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"
shared="$here/../../shared/corpus"
runs="${1:-8}"
[ -d "$shared" ] || { echo "skipped: ../shared/corpus not found" >&2; exit 0; }
cd "$here/.."
cargo build --release -q -p sigil-cli
sigil="$(bench_release_dir)/sigil"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export XDG_CACHE_HOME="$work/cache"
log="$shared/evtx/Defense Evasion/Win_4985_T1186_Process_Doppelganging.evtx"
rules="$shared/sigma/rules/windows"
hunt() { /usr/bin/time -f "$1 %e %U %S" -a -o "$work/times" "$sigil" hunt "$log" --rules "$rules" \
  --threads 1 --format jsonl --no-progress -o "$work/out.jsonl" "${@:2}" 2> /dev/null || true; }
hunt warm-up   # writes the cache
: > "$work/times"
echo "# $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"
for _ in $(seq 1 "$runs"); do
  hunt no-cache --no-cache
  hunt cached
done
python3 - "$work/times" <<'PY'
import sys, statistics
from collections import defaultdict
runs = defaultdict(list)
for line in open(sys.argv[1]):
    mode, wall, user, sys_ = line.split()
    runs[mode].append((float(wall), float(user) + float(sys_)))
for mode in ("no-cache", "cached"):
    rows = runs[mode]
    walls, cpus = [r[0] for r in rows], [r[1] for r in rows]
    print(f"{mode:<9} wall median {statistics.median(walls):.3f} s (least {min(walls):.3f})  "
          f"cpu median {statistics.median(cpus):.3f} s (least {min(cpus):.3f})  runs {len(rows)}")
PY
