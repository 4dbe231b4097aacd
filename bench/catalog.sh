#!/bin/sh
# Loading and analysing the whole shared corpus (Sigma + Elastic + Atomic Red Team + ATT&CK)
# with sigil-catalog, per phase, wall and CPU time. Usage: bench/catalog.sh [CORPUS_DIR]
set -eu
cd "$(dirname "$0")/.."
corpus="${1:-../shared/corpus}"
cargo build --release -q -p sigil-catalog --example catalog_bench
for run in 1 2 3; do
  echo "run $run"
  target/release/examples/catalog_bench "$corpus/sigma" "$corpus/elastic" "$corpus/atomic-red-team" "$corpus/attack"
done
echo "sigil atomics over the same corpus (whole command, release):"
cargo build --release -q -p sigil-cli
/usr/bin/time -f "wall %e s, user %U s, sys %S s, max RSS %M KB" \
  target/release/sigil atomics --corpus "$corpus/sigma" --corpus "$corpus/elastic" \
  --corpus "$corpus/atomic-red-team" --corpus "$corpus/attack" --format json > /dev/null
