#!/bin/sh
# `sigil watch` with all SigmaHQ Windows rules (pipelines sysmon + windows-logsources):
#  1. events/s from standard input on one core (taskset), over the oracle's events repeated,
#     next to the same run with no events (rule loading alone), so the rate is the events
#     over the difference;
#  2. events/s from NATS JetStream on one core: the events published first, the watcher
#     timed from start until its metrics count them all (same start-up subtraction);
#  3. detection latency p50/p99 at a steady 10,000 events/s from stdin, and the RSS every
#     10 s over the run (SECONDS, default 600).
# Usage: bench/watch.sh [SECONDS] [COPIES]
set -eu
cd "$(dirname "$0")/.."
seconds="${1:-600}"
copies="${2:-12}"
shared=../shared
rules="$shared/corpus/sigma/rules/windows"
cargo build --release -q -p sigil-cli
cargo build --release -q -p sigil-watch --examples
sigil=target/release/sigil
tmp=$(mktemp -d)
trap 'kill $(cat "$tmp/nats.pid" 2>/dev/null) 2>/dev/null || true; rm -rf "$tmp"' EXIT
zcat "$shared/oracle/events.jsonl.gz" > "$tmp/one.jsonl"
: > "$tmp/events.jsonl"
i=0; while [ $i -lt "$copies" ]; do cat "$tmp/one.jsonl" >> "$tmp/events.jsonl"; i=$((i+1)); done
n=$(wc -l < "$tmp/events.jsonl")
args="--rules $rules -p sysmon -p windows-logsources"
now() { date +%s.%N; }
echo "machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), load $(cut -d' ' -f1-3 /proc/loadavg)"
for run in 1 2 3; do
  t0=$(now); taskset -c 0 $sigil watch $args --input - < /dev/null > /dev/null 2>&1; t1=$(now)
  taskset -c 0 $sigil watch $args --input - < "$tmp/events.jsonl" > /dev/null 2>"$tmp/err"; t2=$(now)
  echo "stdin run $run: $n events; start-up $(echo "$t1 - $t0" | bc) s; with events $(echo "$t2 - $t1" | bc) s;" \
    "$(echo "$n / (($t2 - $t1) - ($t1 - $t0))" | bc) events/s; $(tail -1 "$tmp/err")"
done
# JetStream.
port=14222
nats-server -js -a 127.0.0.1 -p $port -sd "$tmp/js" > /dev/null 2>&1 & echo $! > "$tmp/nats.pid"
sleep 1
target/release/examples/nats_publish 127.0.0.1:$port EV events.bench "$tmp/one.jsonl" "$copies"
for run in 1 2 3; do
  t0=$(now)
  taskset -c 0 $sigil watch $args --input "nats://127.0.0.1:$port/events.bench?stream=EV&durable=bench$run" \
    --metrics 127.0.0.1:19464 > /dev/null 2>"$tmp/err" & pid=$!
  until curl -sf http://127.0.0.1:19464/healthz > /dev/null 2>&1; do sleep 0.05; done
  t1=$(now)
  until [ "$(curl -sf http://127.0.0.1:19464/metrics | awk '/^sigil_watch_events_total/ {print $2}')" = "$n" ]; do sleep 0.05; done
  t2=$(now)
  kill -TERM $pid; wait $pid || true
  echo "jetstream run $run: $n events; start-up $(echo "$t1 - $t0" | bc) s; events $(echo "$t2 - $t1" | bc) s;" \
    "$(echo "$n / ($t2 - $t1)" | bc) events/s"
done
# Latency at 10,000 events/s, RSS over the run.
target/release/examples/watch_load $sigil "$tmp/one.jsonl" 10000 "$seconds" -- $args --input -
