#!/usr/bin/env bash
# Export speed: `sigil export` of the EVTX attack samples copied N times to Parquet (and to
# JSON lines), one thread, side by side in one run with `sigil hunt` (every SigmaHQ
# rules/windows rule, one thread) and the parse-only ceiling (the evtx crate's Python
# bindings rendering every record to JSON). Reports wall and CPU time, events/s, peak RSS,
# and the size of what export wrote.
#
# Usage: bench/export.sh [--copies N] [--runs R] [--python PYTHON]
#   --copies N  copies of the corpus (default 8: 2,216 files, about 160 MB, 66,040 events)
#   --runs R    runs of each configuration (default 3); the median run (by CPU time) of each
#               is reported: the machines are shared, and CPU time says more than wall time
#               when other work competes for the cores
#   --python P  a Python with `pip install evtx` for the ceiling (default: python3)
# Needs: cargo, GNU time (/usr/bin/time) for peak RSS.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"
shared="$here/../../shared/corpus"
copies=8
runs=3
python=python3
while [ $# -gt 0 ]; do
  case "$1" in
    --copies) copies="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --python) python="$2"; shift 2 ;;
    *) echo "usage: $0 [--copies N] [--runs R] [--python PYTHON]" >&2; exit 2 ;;
  esac
done
[ -d "$shared" ] || { echo "skipped: ../shared/corpus not found" >&2; exit 0; }
cd "$here/.."
cargo build --release -q -p sigil-cli
sigil="$(bench_release_dir)/sigil"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
logs="$work/logs"
bench_evtx_copies "$logs" "$copies"

echo "# $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# $files files, $bytes bytes"

report() { # label, events, runs file, extra
  python3 - "$@" <<'PY'
import sys
label, events, path, extra = sys.argv[1:]
rows = []
for line in open(path):
    t0, t1, rss, user, sys_ = line.split()
    rows.append((float(user) + float(sys_), float(t1) - float(t0), int(rss)))
rows.sort()
cpu, wall, rss = rows[len(rows) // 2]
events = int(events)
print(f"{label:<30} wall {wall:6.2f} s ({events / wall:7.0f} events/s)  cpu {cpu:6.2f} s "
      f"({events / cpu:7.0f} events/cpu-s)  peak RSS {rss / 1024:6.1f} MB  {extra}")
PY
}

timed() { # runs file, command...
  local runs_file="$1" t0 t1
  shift
  t0=$(date +%s.%N)
  /usr/bin/time -f "%M %U %S" -o "$work/rss" "$@" 2> "$work/err" || true
  t1=$(date +%s.%N)
  echo "$t0 $t1 $(tail -n1 "$work/rss")" >> "$runs_file"
}

events() { grep -oE '^[0-9]+ files, [0-9]+ events' "$work/err" | awk '{print $3}'; }

: > "$work/ceiling"
if "$python" -c 'import evtx' 2>/dev/null; then
  for i in $(seq 1 "$runs"); do
    # The ceiling in the same process accounting as the others: the whole interpreter.
    timed "$work/ceiling" "$python" "$here/evtx_parse_ceiling.py" "$shared/evtx" --copies "$copies"
    cat "$work/err" >&2 || true
  done
else
  echo "python evtx not installed (pip install evtx, or --python): ceiling not measured" >&2
fi

: > "$work/parquet"; : > "$work/jsonl"; : > "$work/hunt"
for i in $(seq 1 "$runs"); do
  rm -rf "$work/out"
  timed "$work/parquet" "$sigil" export "$logs" -o "$work/out" --threads 1 --no-progress
  parquet_events=$(events)
  parquet_size=$(du -sb "$work/out" | cut -f1)
  parquet_files=$(find "$work/out" -name '*.parquet' | wc -l)
  rm -rf "$work/out"
  timed "$work/jsonl" "$sigil" export "$logs" -o "$work/out" --format jsonl --threads 1 --no-progress
  jsonl_size=$(du -sb "$work/out" | cut -f1)
  rm -rf "$work/out"
  timed "$work/hunt" "$sigil" hunt "$logs" --rules "$shared/sigma/rules/windows" --threads 1 \
    --format jsonl --no-progress -o "$work/hunt.jsonl"
  hunt_events=$(events)
done
if [ -s "$work/ceiling" ]; then
  report "parse-only ceiling (python)" "$parquet_events" "$work/ceiling" "(interpreter start included)"
fi
report "sigil export parquet, 1 thr" "$parquet_events" "$work/parquet" \
  "$parquet_files file(s), $((parquet_size / 1024)) KiB"
report "sigil export jsonl, 1 thr" "$parquet_events" "$work/jsonl" "$((jsonl_size / 1024)) KiB"
report "sigil hunt, all rules, 1 thr" "$hunt_events" "$work/hunt" "$(wc -l < "$work/hunt.jsonl") detections"
