#!/usr/bin/env bash
# Converts the whole Sigma corpus (rules, rules-emerging-threats, rules-threat-hunting,
# rules-placeholder) to each target with the release `sigil` binary and, in the same run,
# with pySigma's `sigma convert`, and prints wall times and ratios.
#
# Usage: bench/convert-corpus.sh [SHARED_DIR]   (default: ../shared next to the repo)
# Needs: a Python venv with sigma-cli and the backends (see /work/shared/oracle/VERSIONS.txt):
#   python3 -m venv /tmp/sigma-venv && /tmp/sigma-venv/bin/pip install sigma-cli \
#     pysigma-backend-splunk pysigma-backend-elasticsearch pysigma-backend-kusto pysigma-backend-sqlite
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
shared="${1:-$here/../shared}"
corpus="$shared/corpus/sigma"
dirs=("$corpus/rules" "$corpus/rules-emerging-threats" "$corpus/rules-threat-hunting" "$corpus/rules-placeholder")
sigma="${SIGMA_CLI:-/tmp/sigma-venv/bin/sigma}"

cargo build --release -q -p sigil-cli --manifest-path "$here/Cargo.toml"
sigil="$here/target/release/sigil"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

now() { date +%s.%N; }
secs() { python3 -c "print(f'{$2 - $1:.3f}')"; }

# sigil target and pipeline | sigma-cli target and options
pairs=(
  "splunk -p none|splunk --without-pipeline"
  "lucene -p ecs_windows|lucene -p ecs_windows"
  "eql -p ecs_windows|eql -p ecs_windows"
  "kusto -p none|kusto"
  "sqlite -p none|sqlite"
)
echo "# $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(uname -m); sigil $(git -C "$here" rev-parse --short HEAD)"
echo "# $("$sigma" version 2>/dev/null | head -1 || echo 'sigma-cli not found')"
printf '%-8s %10s %8s %10s %8s %8s\n' target sigil_s queries pysigma_s queries ratio
for pair in "${pairs[@]}"; do
  ours="${pair%%|*}"
  theirs="${pair#*|}"
  # Output goes to files so that a run that converted nothing is visible in the counts.
  # sigil: the median of three runs (a run takes a fraction of a second, so one stray
  # process on a shared machine would decide a single sample); pySigma: one run.
  runs=()
  for _ in 1 2 3; do
    t0=$(now)
    # shellcheck disable=SC2086
    "$sigil" convert -t $ours "${dirs[@]}" >"$tmp/sigil.out" 2>/dev/null || true
    runs+=("$(secs "$t0" "$(now)")")
  done
  a=$(printf '%s\n' "${runs[@]}" | sort -n | sed -n 2p)
  t1=$(now)
  n_ours=$(grep -c . "$tmp/sigil.out" || true)
  if [[ -x "$sigma" ]]; then
    # shellcheck disable=SC2086
    "$sigma" convert -t $theirs -s "${dirs[@]}" >"$tmp/sigma.out" 2>/dev/null || true
    t2=$(now)
    b=$(secs "$t1" "$t2")
    n_theirs=$(grep -c . "$tmp/sigma.out" || true)
    printf '%-8s %10s %8s %10s %8s %8s\n' "${ours%% *}" "$a" "$n_ours" "$b" "$n_theirs" \
      "$(python3 -c "print(f'{$b/$a:.0f}x')")"
  else
    printf '%-8s %10s %8s %10s %8s %8s\n' "${ours%% *}" "$a" "$n_ours" n/a n/a n/a
  fi
done
