#!/usr/bin/env bash
# Reading EVTX: sigil-logs (flat events, one thread and all threads) next to the parse-only
# ceiling (the evtx crate's own renderings, and the Python bindings' records_json()).
#
# Usage: bench/read-evtx.sh [--copies N] [--threads N]   (default: --copies 8, all cores)
# Needs: cargo, python3 with `pip install evtx`. Results go to BENCHMARKS.md by hand.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"
root="$here/../../shared/corpus/evtx"
copies=8
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --copies) copies="$2"; shift 2 ;;
    --threads) extra+=(--threads "$2"); shift 2 ;;
    *) echo "usage: $0 [--copies N] [--threads N]" >&2; exit 2 ;;
  esac
done
if [ ! -d "$root" ]; then
  echo "skipped: ../shared/corpus not found" >&2
  exit 0
fi
cd "$here/.."
cargo build --release -q -p sigil-logs --example read_evtx
target_dir="$(dirname "$(bench_release_dir)")"
echo "# $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"
"$target_dir/release/examples/read_evtx" "$root" --copies "$copies" "${extra[@]}"
if python3 -c 'import evtx' 2>/dev/null; then
  python3 "$here/evtx_parse_ceiling.py" "$root" --copies "$copies"
else
  echo "python evtx not installed (pip install evtx): ceiling not measured" >&2
fi
