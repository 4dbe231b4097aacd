#!/bin/sh
# `sigil atomics` over the corpus: the acceptance command (SigmaHQ rules + Atomic Red Team)
# and the whole shared corpus (Sigma, Elastic, Atomic Red Team, ATT&CK), three runs each,
# next to `sigil coverage` over the same folders (loading and analysis without the atomic
# linkage) so the linkage's share is a ratio measured in one run.
# Usage: bench/atomics.sh [CORPUS_DIR]
set -eu
cd "$(dirname "$0")/.."
corpus="${1:-../shared/corpus}"
cargo build --release -q -p sigil-cli
sigil=target/release/sigil
fmt="wall %e s, user %U s, sys %S s, max RSS %M KB"
for run in 1 2 3; do
  echo "run $run"
  printf '  atomics, sigma/rules + atomic-red-team: '
  /usr/bin/time -f "$fmt" $sigil atomics --corpus "$corpus/sigma/rules" \
    --corpus "$corpus/atomic-red-team" --format json 2>&1 >/dev/null | tail -1
  printf '  coverage, same folders:                 '
  /usr/bin/time -f "$fmt" $sigil coverage --corpus "$corpus/sigma/rules" \
    --corpus "$corpus/atomic-red-team" 2>&1 >/dev/null | tail -1
  printf '  atomics, whole corpus:                  '
  /usr/bin/time -f "$fmt" $sigil atomics --corpus "$corpus/sigma" --corpus "$corpus/elastic" \
    --corpus "$corpus/atomic-red-team" --corpus "$corpus/attack" --format json 2>&1 >/dev/null | tail -1
done
