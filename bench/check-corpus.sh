#!/usr/bin/env bash
# Times `sigil check` (release build) over the whole shared Sigma corpus.
# Usage: bench/check-corpus.sh [CORPUS]   (default: ../shared/corpus/sigma)
# Uses hyperfine when installed (apt-get install hyperfine), else a `date` loop.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
corpus="${1:-$root/../shared/corpus/sigma}"
if [ ! -d "$corpus" ]; then
    echo "corpus not found: $corpus" >&2
    exit 2
fi

cargo build --release -p sigil-cli --manifest-path "$root/Cargo.toml" >&2
target="${CARGO_TARGET_DIR:-$root/target}"
sigil="$target/release/sigil"

files=$(find "$corpus" -name '*.yml' -o -name '*.yaml' | wc -l)
echo "corpus: $corpus ($files files), $(nproc) cores, $(date -u +%Y-%m-%d)" >&2
# `sigil check` exits 1 because the corpus holds unsupported rules and non-rule YAML;
# that is expected here, so the exit code is ignored.
if command -v hyperfine >/dev/null; then
    hyperfine --warmup 3 --runs 20 -i "$sigil check $corpus"
else
    runs=20
    start=$(date +%s.%N)
    for _ in $(seq "$runs"); do
        "$sigil" check "$corpus" >/dev/null 2>&1 || true
    done
    end=$(date +%s.%N)
    echo "mean: $(echo "($end - $start) / $runs" | bc -l | cut -c1-6) s over $runs runs"
fi
