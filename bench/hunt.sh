#!/usr/bin/env bash
# Hunting speed: `sigil hunt` with every SigmaHQ rules/windows rule over the EVTX attack
# samples copied N times, one thread and all threads, side by side in one run with the
# parse-only ceiling (the evtx crate's Python bindings rendering every record to JSON).
# Reports wall time, events/s, peak RSS and detection counts.
#
# Usage: bench/hunt.sh [--copies N]   (default 8: 2,216 files, about 300 MB, 66,040 events)
# Needs: cargo, python3 with `pip install evtx`, GNU time (/usr/bin/time) for peak RSS.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
shared="$here/../../shared/corpus"
copies=8
while [ $# -gt 0 ]; do
  case "$1" in
    --copies) copies="$2"; shift 2 ;;
    *) echo "usage: $0 [--copies N]" >&2; exit 2 ;;
  esac
done
[ -d "$shared" ] || { echo "skipped: ../shared/corpus not found" >&2; exit 0; }
cd "$here/.."
cargo build --release -q -p sigil-cli
sigil="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release/sigil"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for i in $(seq 1 "$copies"); do cp -r "$shared/evtx" "$work/copy$i"; done
files=$(find "$work" -name '*.evtx' | wc -l)
bytes=$(du -sb "$work" | cut -f1)
cat "$work"/copy*/*/*.evtx "$work"/copy*/*.evtx > /dev/null 2>&1 || true   # warm the page cache

echo "# $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# $files files, $bytes bytes, rules: $shared/sigma/rules/windows"

run() { # label, threads
  local label="$1" threads="$2" t0 t1
  t0=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "$work/rss" "$sigil" hunt "$work" --rules "$shared/sigma/rules/windows" \
    --threads "$threads" --format jsonl --no-progress -o "$work/out.jsonl" 2> "$work/err" || true
  t1=$(date +%s.%N)
  local events detections
  events=$(grep -oE '^[0-9]+ files, [0-9]+ events' "$work/err" | awk '{print $3}')
  detections=$(wc -l < "$work/out.jsonl")
  python3 - "$label" "$t0" "$t1" "$events" "$detections" "$(tail -n1 "$work/rss")" <<'PY'
import sys
label, t0, t1, events, det, rss = sys.argv[1:]
wall = float(t1) - float(t0)
print(f"{label:<28} wall {wall:6.2f} s  {int(events)/wall:9.0f} events/s  peak RSS {int(rss)/1024:6.1f} MB  detections {det}")
PY
}

if python3 -c 'import evtx' 2>/dev/null; then
  python3 "$here/evtx_parse_ceiling.py" "$shared/evtx" --copies "$copies"
else
  echo "python evtx not installed (pip install evtx): ceiling not measured" >&2
fi
run "sigil hunt, 1 thread" 1
run "sigil hunt, $(nproc) threads" "$(nproc)"
grep -E 'rules read|detections:' "$work/err" || true
