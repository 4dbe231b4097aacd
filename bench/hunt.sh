#!/usr/bin/env bash
# Hunting speed: `sigil hunt` with every SigmaHQ rules/windows rule over the EVTX attack
# samples copied N times, one thread and all threads, side by side in one run with the
# parse-only ceiling (the evtx crate's Python bindings rendering every record to JSON).
# Reports wall time, events/s, peak RSS and detection counts.
#
# Usage: bench/hunt.sh [--copies N] [--runs R]
#   --copies N  copies of the corpus (default 8: 2,216 files, about 300 MB, 66,040 events)
#   --runs R    runs of each configuration, the ceiling included (default 3); the median
#               run (by wall time) of each is reported
# CPU time (user + system) is reported next to wall time: the machines are shared, and CPU
# time says more than wall time when other work competes for the cores.
# Needs: cargo, python3 with `pip install evtx`, GNU time (/usr/bin/time) for peak RSS.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"
shared="$here/../../shared/corpus"
copies=8
runs=3
while [ $# -gt 0 ]; do
  case "$1" in
    --copies) copies="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    *) echo "usage: $0 [--copies N] [--runs R]" >&2; exit 2 ;;
  esac
done
[ -d "$shared" ] || { echo "skipped: ../shared/corpus not found" >&2; exit 0; }
cd "$here/.."
cargo build --release -q -p sigil-cli
sigil="$(bench_release_dir)/sigil"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# The logs go in their own folder: the output must not be among the inputs.
logs="$work/logs"
bench_evtx_copies "$logs" "$copies"

echo "# $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# $files files, $bytes bytes, rules: $shared/sigma/rules/windows"

run() { # label, threads: the median of $runs runs
  local label="$1" threads="$2" t0 t1 i
  : > "$work/runs"
  for i in $(seq 1 "$runs"); do
    t0=$(date +%s.%N)
    /usr/bin/time -f "%M %U %S" -o "$work/rss" "$sigil" hunt "$logs" --rules "$shared/sigma/rules/windows" \
      --threads "$threads" --format jsonl --no-progress -o "$work/out.jsonl" 2> "$work/err" || true
    t1=$(date +%s.%N)
    echo "$t0 $t1 $(tail -n1 "$work/rss")" >> "$work/runs"
  done
  local events detections
  events=$(grep -oE '^[0-9]+ files, [0-9]+ events' "$work/err" | awk '{print $3}')
  detections=$(wc -l < "$work/out.jsonl")
  python3 - "$label" "$events" "$detections" "$work/runs" <<'PY'
import sys
label, events, det, path = sys.argv[1:]
rows = []
for line in open(path):
    t0, t1, rss, user, sys_ = line.split()
    rows.append((float(t1) - float(t0), float(user) + float(sys_), int(rss)))
rows.sort()
wall, cpu, rss = rows[len(rows) // 2]
events = int(events)
print(f"{label:<28} wall {wall:6.2f} s ({events / wall:7.0f} events/s)  cpu {cpu:6.2f} s "
      f"({events / cpu:7.0f} events/cpu-s)  peak RSS {rss / 1024:6.1f} MB  detections {det}")
PY
}

if python3 -c 'import evtx' 2>/dev/null; then
  for i in $(seq 1 "$runs"); do
    python3 "$here/evtx_parse_ceiling.py" "$shared/evtx" --copies "$copies"
  done
else
  echo "python evtx not installed (pip install evtx): ceiling not measured" >&2
fi
run "sigil hunt, 1 thread" 1
run "sigil hunt, $(nproc) threads" "$(nproc)"
grep -E 'rules read|detections:' "$work/err" || true
