#!/usr/bin/env bash
# Hunting at scale: `sigil hunt` with every SigmaHQ rules/windows rule over the EVTX corpus
# copied 8 times and copied 64 times (277 files a copy: 2,216 and 17,728 files), all
# cores, side by side in one run: events/s of each and the ratio, peak RSS of each (it must
# not grow with the input), and the detections (64 copies must find 8 times those of 8).
# The copies are hard links to ../shared's files where the file system allows it (the
# bytes read are the same; no 2.4 GB of disk), real copies otherwise.
#
# Usage: bench/hunt-scale.sh [--runs R] [--threads N]
#   --runs R     runs of each size, alternating (default 3); medians are reported
#   --threads N  worker threads (default: all cores)
# Needs: cargo, python3, GNU time (/usr/bin/time) for peak RSS.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"
shared="$here/../../shared/corpus"
runs=3
threads="$(nproc)"
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    *) echo "usage: $0 [--runs R] [--threads N]" >&2; exit 2 ;;
  esac
done
[ -d "$shared" ] || { echo "skipped: ../shared/corpus not found" >&2; exit 0; }
cd "$here/.."
cargo build --release -q -p sigil-cli
sigil="$(bench_release_dir)/sigil"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for n in 8 64; do
  mkdir "$work/logs$n"
  for i in $(seq 1 "$n"); do
    cp -rl "$shared/evtx" "$work/logs$n/copy$i" 2>/dev/null || cp -r "$shared/evtx" "$work/logs$n/copy$i"
  done
done
find "$shared/evtx" -name '*.evtx' -exec cat {} + > /dev/null   # warm the page cache

echo "# $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg), $threads threads"
: > "$work/runs"
for r in $(seq 1 "$runs"); do
  for n in 8 64; do
    t0=$(date +%s.%N)
    /usr/bin/time -f "%M %U %S" -o "$work/rss" "$sigil" hunt "$work/logs$n" --rules "$shared/sigma/rules/windows" \
      --threads "$threads" --format jsonl --no-progress -o "$work/out$n.jsonl" 2> "$work/err$n" || true
    t1=$(date +%s.%N)
    events=$(grep -oE '^[0-9]+ files, [0-9]+ events' "$work/err$n" | awk '{print $1, $3}')
    echo "$n $t0 $t1 $(tail -n1 "$work/rss") $events $(wc -l < "$work/out$n.jsonl")" >> "$work/runs"
  done
done
python3 - "$work/runs" <<'PY'
import sys
from collections import defaultdict
runs = defaultdict(list)
for line in open(sys.argv[1]):
    n, t0, t1, rss, user, sys_, files, events, det = line.split()
    runs[int(n)].append((float(t1) - float(t0), float(user) + float(sys_), int(rss), int(files), int(events), int(det)))
med = {}
for n, rows in sorted(runs.items()):
    rows.sort()
    wall, cpu, rss, files, events, det = med[n] = rows[len(rows) // 2]
    print(f"{n:>2} copies: {files:>6} files {events:>9} events  wall {wall:7.2f} s ({events / wall:8.0f} events/s)  "
          f"cpu {cpu:7.2f} s  peak RSS {rss / 1024:6.1f} MB (runs: {', '.join(f'{r[2] / 1024:.1f}' for r in rows)})  detections {det}")
a, b = med[8], med[64]
print(f"64 copies ÷ 8 copies: events/s {b[4] / b[0] / (a[4] / a[0]):.3f}, peak RSS {b[2] / a[2]:.3f}, "
      f"detections {b[5] / a[5]:.3f} (8 expected)")
PY
