#!/usr/bin/env bash
# What responders run over a pile of logs, on the EVTX attack samples copied N times:
#   - `hunt` in input order next to `hunt --sort time` (wall, CPU, peak RSS: the time sort
#     must stay within 1.2x the memory of the unsorted run);
#   - `hunt` over everything next to a one-hour window (`--from/--to`): events read and EVTX
#     chunks not read for the window;
#   - `search mimikatz` and `metrics --logons` over everything;
#   - Chainsaw's `search` next to sigil's, when CHAINSAW names a chainsaw binary built from
#     source (https://github.com/WithSecureLabs/chainsaw, `cargo build --release`).
#
# Usage: bench/responders.sh [--copies N] [--runs R]   (defaults: 8 copies, 3 runs; the
# median run by wall time is reported)
# Needs: cargo, python3, GNU time (/usr/bin/time) for peak RSS.
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
logs="$work/logs"
bench_evtx_copies "$logs" "$copies"
rules="$shared/sigma/rules/windows"

echo "# $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# $files files, $bytes bytes, rules: $rules"

measure() { # label, command...: the median of $runs runs; stdout to $work/out, stderr to $work/err
  local label="$1" t0 t1 i
  shift
  : > "$work/runs"
  for i in $(seq 1 "$runs"); do
    t0=$(date +%s.%N)
    /usr/bin/time -f "%M %U %S" -o "$work/rss" "$@" > "$work/out" 2> "$work/err" || true
    t1=$(date +%s.%N)
    echo "$t0 $t1 $(tail -n1 "$work/rss")" >> "$work/runs"
  done
  python3 - "$label" "$(wc -l < "$work/out")" "$work/runs" <<'PY'
import sys
label, lines, path = sys.argv[1:]
rows = []
for line in open(path):
    t0, t1, rss, user, sys_ = line.split()
    rows.append((float(t1) - float(t0), float(user) + float(sys_), int(rss)))
rows.sort()
wall, cpu, rss = rows[len(rows) // 2]
print(f"{label:<34} wall {wall:6.2f} s  cpu {cpu:6.2f} s  peak RSS {rss / 1024:6.1f} MB  output lines {lines}")
PY
}

measure "hunt, input order" "$sigil" hunt "$logs" --rules "$rules" --format jsonl --no-progress
sort "$work/out" > "$work/unsorted"
measure "hunt --sort time" "$sigil" hunt "$logs" --rules "$rules" --format jsonl --no-progress --sort time
sort "$work/out" | cmp -s - "$work/unsorted" && echo "  same detections as the unsorted run" \
  || echo "  DIFFERENT detections from the unsorted run"

# A one-hour window at the busiest hour of the samples.
hour=$("$sigil" search "$shared/evtx" --field 'EventID=*' --format jsonl --no-progress 2>/dev/null \
  | python3 -c '
import collections, json, sys
c = collections.Counter(json.loads(l)["timestamp"][:13] for l in sys.stdin if json.loads(l)["timestamp"])
print(c.most_common(1)[0][0])')
from="${hour}:00:00Z"; to="${hour}:59:59Z"
measure "hunt, all" "$sigil" hunt "$logs" --rules "$rules" --format jsonl --no-progress
grep -E '^[0-9]+ files?, ' "$work/err" | sed 's/^/  /'
measure "hunt --from $from --to $to" "$sigil" hunt "$logs" --rules "$rules" --format jsonl --no-progress --from "$from" --to "$to"
grep -E '^[0-9]+ files?, |outside the time window' "$work/err" | sed 's/^/  /'

measure "search mimikatz" "$sigil" search "$logs" mimikatz --format jsonl --no-progress
measure "search mimikatz, one hour" "$sigil" search "$logs" mimikatz --format jsonl --no-progress --from "$from" --to "$to"
measure "metrics --logons" "$sigil" metrics "$logs" --logons --format json --no-progress
if [ -n "${CHAINSAW:-}" ]; then
  measure "chainsaw search mimikatz" "$CHAINSAW" search mimikatz -i "$logs" --json -q
else
  echo "# CHAINSAW not set: Chainsaw's search not measured"
fi
