#!/usr/bin/env bash
# Hunting over JSON lines: `sigil hunt` with every SigmaHQ rules/windows rule over the
# oracle's 8,255 flattened Windows events (../shared/oracle/events.jsonl.gz) written N
# times (N files of JSON lines), one thread and all threads, side by side in one run with
# the parse-only ceiling: serde_json parsing every line of the same files into a
# `serde_json::Value` on one thread (crates/sigil-logs/examples/parse_jsonl.rs).
# Reports wall and CPU time, events/s, peak RSS, detections, and hunt ÷ ceiling by wall
# time and by CPU time (user + system; says more than wall time on a busy machine).
#
# Usage: bench/hunt-json.sh [--copies N] [--runs R]
#   --copies N  files of the events (default 8: 66,040 events, 72 MB)
#   --runs R    runs of each configuration (default 3); the median run (by wall time) is
#               reported
# Needs: cargo, python3, GNU time (/usr/bin/time) for peak RSS.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"
shared="$here/../../shared"
copies=8
runs=3
while [ $# -gt 0 ]; do
  case "$1" in
    --copies) copies="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    *) echo "usage: $0 [--copies N] [--runs R]" >&2; exit 2 ;;
  esac
done
[ -f "$shared/oracle/events.jsonl.gz" ] || { echo "skipped: ../shared/oracle/events.jsonl.gz not found" >&2; exit 0; }
cd "$here/.."
cargo build --release -q -p sigil-cli
cargo build --release -q -p sigil-logs --example parse_jsonl
target="$(bench_release_dir)"
sigil="$target/sigil"
ceiling="$target/examples/parse_jsonl"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
logs="$work/logs"
mkdir "$logs"
gzip -dc "$shared/oracle/events.jsonl.gz" > "$logs/copy1.jsonl"
for i in $(seq 2 "$copies"); do cp "$logs/copy1.jsonl" "$logs/copy$i.jsonl"; done
bytes=$(du -sb "$logs" | cut -f1)
cat "$logs"/*.jsonl > /dev/null   # warm the page cache

echo "# $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# $copies files, $bytes bytes, rules: $shared/corpus/sigma/rules/windows"

# Each configuration: the median of $runs runs, as "label wall cpu rss events detections".
measure() { # label, command...
  local label="$1" t0 t1 i
  shift
  : > "$work/runs"
  for i in $(seq 1 "$runs"); do
    t0=$(date +%s.%N)
    /usr/bin/time -f "%M %U %S" -o "$work/rss" "$@" > "$work/stdout" 2> "$work/err" || true
    t1=$(date +%s.%N)
    echo "$t0 $t1 $(tail -n1 "$work/rss")" >> "$work/runs"
  done
  python3 - "$label" "$work/runs" <<'PY' >> "$work/table"
import sys
label, path = sys.argv[1:]
rows = []
for line in open(path):
    t0, t1, rss, user, sys_ = line.split()
    rows.append((float(t1) - float(t0), float(user) + float(sys_), int(rss)))
rows.sort()
wall, cpu, rss = rows[len(rows) // 2]
print(f"{label}\t{wall}\t{cpu}\t{rss}")
PY
}

: > "$work/table"
measure "serde_json parse-only, 1 thread" "$ceiling" "$logs"/copy*.jsonl
ceiling_events=$(grep -oE '[0-9]+ events' "$work/stdout" | head -n1 | awk '{print $1}')
grep 'not JSON' "$work/stdout" | sed 's/^ */# ceiling: /'
hunt=("$sigil" hunt "$logs" --rules "$shared/corpus/sigma/rules/windows" --format jsonl --no-progress
  -o "$work/out.jsonl" --threads)
measure "sigil hunt, 1 thread" "${hunt[@]}" 1
events=$(grep -oE '^[0-9]+ files, [0-9]+ events' "$work/err" | awk '{print $3}')
detections_1=$(wc -l < "$work/out.jsonl")
measure "sigil hunt, $(nproc) threads" "${hunt[@]}" "$(nproc)"
detections_n=$(wc -l < "$work/out.jsonl")
grep -E 'rules read|detections:' "$work/err" || true
python3 - "$work/table" "$ceiling_events" "$events" "$detections_1" "$detections_n" <<'PY'
import sys
path, ceiling_events, events, det1, detn = sys.argv[1:]
rows = [line.rstrip("\n").split("\t") for line in open(path)]
base, base_cpu = float(rows[0][1]), float(rows[0][2])
for i, (label, wall, cpu, rss) in enumerate(rows):
    wall, cpu, rss = float(wall), float(cpu), int(rss)
    n = int(ceiling_events if i == 0 else events)
    det = "" if i == 0 else f"  detections {det1 if i == 1 else detn}"
    print(f"{label:<34} wall {wall:6.3f} s ({n / wall:8.0f} events/s)  cpu {cpu:6.3f} s  "
          f"peak RSS {rss / 1024:6.1f} MB  ÷ ceiling: wall {wall / base:5.2f}, cpu {cpu / base_cpu:5.2f}{det}")
if det1 != detn:
    print(f"detections differ between 1 thread ({det1}) and all threads ({detn})")
PY
