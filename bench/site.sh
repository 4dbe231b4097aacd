#!/usr/bin/env bash
# The catalog site over the whole shared corpus: (a) `sigil catalog build` time and size,
# (b) the load benchmark of the server (crates/sigil-site/examples/load.rs): concurrent
# clients searching and opening rule pages over 127.0.0.1 for a bounded time.
#
#   bench/site.sh [--clients 64] [--seconds 20]     (extra arguments go to the load benchmark)
#
# Run from the repository root; ../shared/corpus must exist. Records the machine and date.
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=../shared/corpus
args=(--corpus "$corpus/sigma" --corpus "$corpus/elastic" --corpus "$corpus/atomic-red-team" --corpus "$corpus/attack")

# Two commands: with `--example`, cargo builds only the examples of the packages named.
cargo build --release -p sigil-cli
cargo build --release -p sigil-site --example load
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
# Copies, so that another build in the same target folder cannot swap them mid-run.
cp target/release/sigil target/release/examples/load "$bin/"

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); date: $(date -u '+%Y-%m-%d %H:%M UTC'); load average: $(cut -d' ' -f1-3 /proc/loadavg)"

out="$bin/site"
echo "== sigil catalog build (whole corpus)"
/usr/bin/time -f "wall %e s, CPU %U s user + %S s system, max RSS %M KB" \
    "$bin/sigil" catalog build "${args[@]}" -o "$out" 2>&1 | grep -E '^sigil catalog: [0-9]+ rules|^wall'
echo "on disk: $(du -sh "$out" | cut -f1); index.json $(du -h "$out/index.json" | cut -f1); search index $(du -h "$out/assets/search-index.js" | cut -f1)"
rm -rf "$out"

echo "== load benchmark"
"$bin/load" "${args[@]}" "$@"
