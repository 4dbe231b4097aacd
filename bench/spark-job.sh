#!/bin/sh
# The Spark detection job (`sigil convert -t spark --format job`, every Windows rule with the
# sysmon + windows-logsources pipelines) on local[2] over the corpus's EVTX events exported
# once and copied 1, 8 and 64 times (the Parquet file repeated: the same rows, one file per
# copy, as a folder of collection batches would be). Prints the job's wall time per size
# (JVM start and planning included) and the time per million events of the growth between
# the two largest sizes, which leaves the fixed costs out.
# Usage: bench/spark-job.sh [--python PY] [--copies "1 8 64"] [--runs N]
# PY: a Python with pyspark and pyarrow (default $SIGIL_LAKE_PYTHON, else target/lake-venv);
# java must be on PATH.
set -eu
cd "$(dirname "$0")/.."
python="${SIGIL_LAKE_PYTHON:-$PWD/target/lake-venv/bin/python}"
copies="1 8 64"
runs=1
while [ $# -gt 0 ]; do
  case "$1" in
    --python) python="$2"; shift 2 ;;
    --copies) copies="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    *) echo "usage: bench/spark-job.sh [--python PY] [--copies \"1 8 64\"] [--runs N]" >&2; exit 2 ;;
  esac
done
corpus=../shared/corpus
cargo build --release -q -p sigil-cli
sigil=$PWD/target/release/sigil
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
$sigil export "$corpus/evtx" -o "$work/one" --no-progress 2>"$work/export.err"
events=$(sed -n 's/^[0-9]* files\?, \([0-9]*\) events.*/\1/p' "$work/export.err")
$sigil convert -t spark --format job -p sysmon -p windows-logsources \
  "$corpus/sigma/rules/windows" >"$work/detect.py" 2>"$work/convert.err" || true
tail -1 "$work/convert.err"
echo "machine: $(nproc) cores, $(uname -m), load $(cut -d' ' -f1 /proc/loadavg); $($python -c 'import pyspark; print("pyspark", pyspark.__version__)'); $(java -version 2>&1 | head -1)"
echo "events per copy: $events"
export PYSPARK_PYTHON="$python"
export PYSPARK_SUBMIT_ARGS="--master local[2] --driver-memory 2g pyspark-shell"
results="$work/results"
: >"$results"
for n in $copies; do
  lake="$work/lake-$n"
  mkdir -p "$lake"
  i=0
  for f in "$work"/one/*.parquet; do
    c=0
    while [ $c -lt "$n" ]; do
      cp "$f" "$lake/part-$i-copy-$c.parquet"
      c=$((c + 1))
    done
    i=$((i + 1))
  done
  run=1
  while [ "$run" -le "$runs" ]; do
    rm -rf "$work/out"
    start=$(date +%s.%N)
    "$python" "$work/detect.py" --input "$lake" --output "$work/out" >"$work/spark.log" 2>&1
    end=$(date +%s.%N)
    rows=$("$python" -c "import pyarrow.dataset as d; print(d.dataset('$work/out').count_rows())")
    secs=$(echo "$end - $start" | bc)
    echo "$n copies: $((events * n)) events, $rows detections, $secs s (run $run)"
    echo "$n $((events * n)) $secs" >>"$results"
    run=$((run + 1))
  done
  rm -rf "$lake"
done
# Growth between the two largest sizes (fixed costs cancel), fastest run of each: seconds per
# million events.
awk '{ if (!($2 in t) || $3 < t[$2]) t[$2] = $3 } END {
  for (n in t) { if (n + 0 > a) { b = a; a = n + 0 } else if (n + 0 > b) b = n + 0 }
  if (b > 0) printf "growth %d -> %d events: %.1f s per million events\n", b, a, (t[a] - t[b]) / ((a - b) / 1e6) }' "$results"
