#!/usr/bin/env bash
# Two builds of `sigil hunt` give the same output: both binaries hunt with every SigmaHQ
# rules/windows rule in the EVTX attack samples copied N times (as bench/hunt.sh builds the
# set) and in the oracle's events as JSON lines in N files (as bench/hunt-json.sh builds the
# set, when ../shared/oracle/events.jsonl.gz is there) and in one file of the N copies (which
# two threads read in parts of whole lines), and with examples/rules in
# examples/logs, in every combination of `--format
# jsonl|table|csv`, `--sort input|time` and `--threads 1|2`; standard output, standard error
# and the exit code of each run are compared byte for byte. For a change that must not
# change what hunt prints (a refactor, a speed-up).
#
# Usage: bench/hunt-same.sh OLD_SIGIL NEW_SIGIL [--copies N]
#   --copies N  copies of the corpus (default 8: 2,216 files, 66,040 events)
# Exits 0 when every run is the same, 1 otherwise (the first lines of each difference are
# shown).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"
shared="$here/../../shared/corpus"
[ $# -ge 2 ] || { echo "usage: $0 OLD_SIGIL NEW_SIGIL [--copies N]" >&2; exit 2; }
old="$(realpath "$1")"
new="$(realpath "$2")"
shift 2
copies=8
while [ $# -gt 0 ]; do
  case "$1" in
    --copies) copies="$2"; shift 2 ;;
    *) echo "usage: $0 OLD_SIGIL NEW_SIGIL [--copies N]" >&2; exit 2 ;;
  esac
done
[ -x "$old" ] && [ -x "$new" ] || { echo "$0: both binaries must exist and be executable" >&2; exit 2; }
[ -d "$shared" ] || { echo "skipped: ../shared/corpus not found" >&2; exit 0; }
cd "$here/.."

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
logs="$work/logs"
bench_evtx_copies "$logs" "$copies"
oracle="$shared/../oracle/events.jsonl.gz"
json="$work/json"
if [ -f "$oracle" ]; then
  mkdir "$json"
  gzip -dc "$oracle" > "$json/copy1.jsonl"
  for i in $(seq 2 "$copies"); do cp "$json/copy1.jsonl" "$json/copy$i.jsonl"; done
  mkdir "$work/json-one"
  cat "$json"/copy*.jsonl > "$work/json-one/all.jsonl"
fi

# name, logs, rules: every combination, both binaries, compared.
same=0
differ=0
compare() {
  local name="$1" in="$2" rules="$3" format sort threads bin out
  for format in jsonl table csv; do
    for sort in input time; do
      for threads in 1 2; do
        for bin in old new; do
          out="$work/$bin"
          set +e
          "${!bin}" hunt "$in" --rules "$rules" --format "$format" --sort "$sort" \
            --threads "$threads" --no-progress > "$out.stdout" 2> "$out.stderr"
          echo "exit $?" > "$out.code"
          set -e
        done
        local what="$name --format $format --sort $sort --threads $threads"
        if cmp -s "$work/old.stdout" "$work/new.stdout" \
          && cmp -s "$work/old.stderr" "$work/new.stderr" \
          && cmp -s "$work/old.code" "$work/new.code"; then
          same=$((same + 1))
          echo "same    $what: $(wc -l < "$work/new.stdout") lines out, $(wc -l < "$work/new.stderr") lines err, $(cat "$work/new.code")"
        else
          differ=$((differ + 1))
          echo "DIFFER  $what"
          for s in stdout stderr code; do
            diff "$work/old.$s" "$work/new.$s" | head -n 10 || true
          done
        fi
      done
    done
  done
}

echo "# $(date -u +%Y-%m-%dT%H:%MZ), old: $old, new: $new"
compare "corpus x$copies" "$logs" "$shared/sigma/rules/windows"
if [ -d "$json" ]; then
  compare "oracle json x$copies" "$json" "$shared/sigma/rules/windows"
  compare "oracle json x$copies in one file" "$work/json-one" "$shared/sigma/rules/windows"
else
  echo "# no JSON-lines set: $oracle not found"
fi
compare "examples" examples/logs examples/rules
echo "# $same runs the same, $differ different"
[ "$differ" -eq 0 ]
