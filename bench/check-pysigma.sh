#!/usr/bin/env bash
# `sigil check --all-lints` next to pySigma's validators (what `sigma check` runs with every
# validator) over the same files: rules*/ and deprecated/ of the shared Sigma corpus.
# Usage: bench/check-pysigma.sh VENV_PYTHON [CORPUS]
#   VENV_PYTHON: python of a venv with pySigma==1.5.1 and pysigma-validators-sigmahq==0.21.0
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
python="$1"
corpus="${2:-$root/../shared/corpus/sigma}"
cargo build --release -q -p sigil-cli --manifest-path "$root/Cargo.toml"
sigil="${CARGO_TARGET_DIR:-$root/target}/release/sigil"
dirs=()
for d in rules rules-emerging-threats rules-threat-hunting rules-placeholder deprecated; do
    dirs+=("$corpus/$d")
done
echo "$(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ), load $(cut -d' ' -f1-3 /proc/loadavg)"
for run in 1 2 3; do
    /usr/bin/time -f "sigil check --all-lints: wall %e s, user %U s, sys %S s" \
        "$sigil" check --all-lints --format json "${dirs[@]}" > /dev/null || true
done
out="$(mktemp)"
/usr/bin/time -f "pySigma, every validator: wall %e s, user %U s, sys %S s" \
    "$python" "$root/bench/pysigma_check.py" "$corpus" "$out"
rm -f "$out"
