#!/usr/bin/env bash
# Two sigil binaries side by side on `sigil catalog build` of the whole shared corpus:
# time, CPU and peak memory of each in the same run (alternating, RUNS times each), then
# whether they wrote the same site: every file byte for byte, except index.json and the
# rules' details files (rules/<key>.json, format 3), which are compared for information
# (each byte for byte, counted)
# (bench/catalog_index_expand.py expands any format).
#
#   bench/catalog-same.sh BEFORE_SIGIL AFTER_SIGIL [RUNS]     (default 3 runs)
#
# Run from anywhere; ../shared/corpus (next to the repository) must exist.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
before="$(realpath "$1")"
after="$(realpath "$2")"
runs="${3:-3}"
corpus="$root/../shared/corpus"
args=(--corpus "$corpus/sigma" --corpus "$corpus/elastic" --corpus "$corpus/atomic-red-team" --corpus "$corpus/attack")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); date: $(date -u '+%Y-%m-%d %H:%M UTC')"
for run in $(seq "$runs"); do
    for which in before after; do
        bin=$before
        [ "$which" = after ] && bin=$after
        rm -rf "$work/$which"
        load=$(cut -d' ' -f1 /proc/loadavg)
        /usr/bin/time -o "$work/time" -f "wall %e s, CPU %U s user + %S s system, max RSS %M KB" \
            "$bin" catalog build "${args[@]}" -o "$work/$which" >/dev/null 2>"$work/err"
        echo "run $run $which (load $load): $(cat "$work/time"); index.json $(stat -c %s "$work/$which/index.json") bytes"
    done
done

echo "== same output?"
details='^\./rules/[^/]*\.json$'
(cd "$work/before" && find . -type f | grep -v "$details" | sort) >"$work/files-before"
(cd "$work/after" && find . -type f | grep -v "$details" | sort) >"$work/files-after"
if ! cmp -s "$work/files-before" "$work/files-after"; then
    echo "the file lists differ:"
    diff "$work/files-before" "$work/files-after" | head -20
    exit 1
fi
echo "$(wc -l <"$work/files-before") files each, besides the rules' details files"
for which in before after; do
    echo "$which: $(find "$work/$which/rules" -name '*.json' | wc -l) details files, $(find "$work/$which/rules" -name '*.json' -printf '%s\n' | awk '{s += $1} END {print s + 0}') bytes"
done
differ=$(cd "$work/before" && grep -vx ./index.json "$work/files-before" | while read -r f; do
    cmp -s "$f" "$work/after/$f" || echo "$f"
done)
if [ -n "$differ" ]; then
    echo "these files differ:"
    echo "$differ" | head -20
    exit 1
fi
echo "every file but index.json and the details: byte for byte the same"
details_differ=$(cd "$work/before" && find ./rules -name '*.json' | while read -r f; do
    cmp -s "$f" "$work/after/$f" || echo "$f"
done | wc -l)
if [ "$details_differ" -eq 0 ]; then
    echo "details files: byte for byte the same"
else
    echo "details files: $details_differ differ or are missing after (as information)"
fi
if cmp -s "$work/before/index.json" "$work/after/index.json"; then
    echo "index.json: byte for byte the same"
else
    python3 "$root/bench/catalog_index_expand.py" "$work/before/index.json" "$work/after/index.json"
fi
