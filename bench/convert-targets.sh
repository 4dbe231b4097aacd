#!/usr/bin/env bash
# The whole Sigma corpus to every conversion target sigil has, in one `sigil convert` run (the
# rules are read once), side by side with the reference converter, `sigma convert` (sigma-cli
# 3.1.0, pySigma 1.5.1), run once per target with the same pipelines.
#
#   bench/convert-targets.sh [CORPUS]        # default ../shared/corpus/sigma
#
# The reference backends are installed with pip into throwaway virtual environments, one per
# backend package (their dependencies differ), under $BENCH_VENVS (default
# /tmp/sigil-bench-venvs); they are never a dependency of sigil. Targets sigil does not have yet
# are left out of both sides. Prints one line per target and the totals; record the result in
# BENCHMARKS.md with the machine and date.
set -euo pipefail
cd "$(dirname "$0")/.."

corpus="${1:-../shared/corpus/sigma}"
venvs="${BENCH_VENVS:-/tmp/sigil-bench-venvs}"
dirs=()
for d in rules rules-emerging-threats rules-threat-hunting rules-placeholder; do
  [ -d "$corpus/$d" ] && dirs+=("$corpus/$d")
done
if [ ${#dirs[@]} -eq 0 ]; then
  echo "error: no Sigma rule folders under $corpus" >&2
  exit 2
fi

# sigil target | venv | pip packages | sigma target | sigma options (the pipelines sigil uses
# by default for the target; `--disable-pipeline-check` where sigma-cli would refuse ecs_windows;
# a run that stops early shows as a time far below the others)
targets=(
  "splunk|splunk|pysigma-backend-splunk==2.1.0 pysigma-pipeline-sysmon==2.0.0|splunk|-p sysmon"
  "splunk-dm|splunk|pysigma-backend-splunk==2.1.0 pysigma-pipeline-sysmon==2.0.0|splunk|-p splunk_cim -f data_model"
  "spl2|splunk|pysigma-backend-splunk==2.1.0 pysigma-pipeline-sysmon==2.0.0|splunk_spl2|--without-pipeline"
  "lucene|elastic|pySigma-backend-elasticsearch==2.1.1 pySigma-backend-opensearch==2.0.3|lucene|-p ecs_windows"
  "opensearch|elastic|pySigma-backend-elasticsearch==2.1.1 pySigma-backend-opensearch==2.0.3|opensearch_lucene|-p ecs_windows --disable-pipeline-check"
  "opensearch-ppl|elastic|pySigma-backend-elasticsearch==2.1.1 pySigma-backend-opensearch==2.0.3|open_search_ppl|--without-pipeline"
  "eql|elastic|pySigma-backend-elasticsearch==2.1.1 pySigma-backend-opensearch==2.0.3|eql|-p ecs_windows"
  "esql|elastic|pySigma-backend-elasticsearch==2.1.1 pySigma-backend-opensearch==2.0.3|esql|-p ecs_windows --disable-pipeline-check"
  "kusto|kusto|pySigma-backend-kusto==1.0.1|kusto|-p microsoft_xdr"
  "loki|loki|pySigma-backend-loki==0.15.1|loki|--without-pipeline"
  "sqlite|sqlite|pySigma-backend-sqlite==2.0.0|sqlite|--without-pipeline"
  "sentinelone|sentinelone|pysigma-backend-sentinelone-pq==0.1.6|sentinel_one_pq|--without-pipeline"
  "cortexxdr|cortexxdr|pysigma-backend-cortexxdr==0.1.6|cortex_xdr|--without-pipeline"
  "carbonblack|carbonblack|pysigma-backend-carbonblack==0.1.14|carbon_black|--without-pipeline"
  "qradar|qradar|pySigma-backend-QRadar-community==0.4.0|qradar-aql-community|-p qradar-aql-fields"
  "secops|secops|pySigma-backend-secops==1.0.0|secops|-p secops_udm"
  "sumologic|sumologic|pysigma-backend-sumologic==0.2.5|sumologic_cse|-p sumologic_cse"
  "logscale|crowdstrike|pysigma-backend-crowdstrike==3.0.0|log_scale|-p crowdstrike_fdr"
  "logpoint|logpoint|pysigma-backend-logpoint==1.0.2|logpoint|-p logpoint_windows"
)

cargo build --release -q -p sigil-cli
sigil=target/release/sigil
known=$("$sigil" convert --list-targets --format jsonl | sed -n 's/.*"name":"\([^"]*\)".*/\1/p')

now() { date +%s.%N; }
secs() { python3 -c "print(f'{$2 - $1:.3f}')"; }

chosen=()
for row in "${targets[@]}"; do
  IFS='|' read -r name venv packages _ _ <<<"$row"
  if ! grep -qx "$name" <<<"$known"; then
    echo "# $name: not a sigil target yet, left out"
    continue
  fi
  if [ ! -x "$venvs/$venv/bin/sigma" ]; then
    echo "# installing the reference for $name into $venvs/$venv" >&2
    python3 -m venv "$venvs/$venv"
    # shellcheck disable=SC2086
    "$venvs/$venv/bin/pip" install -q pySigma==1.5.1 sigma-cli==3.1.0 $packages >&2
  fi
  chosen+=("$row")
done

echo "# $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(uname -m); sigil $(git rev-parse --short HEAD)"
names=()
for row in "${chosen[@]}"; do names+=("-t" "${row%%|*}"); done
start=$(now)
"$sigil" convert "${names[@]}" --format jsonl "${dirs[@]}" >/dev/null 2>&1 || true
sigil_s=$(secs "$start" "$(now)")

total=0
printf '%-16s %12s\n' target "sigma (s)"
for row in "${chosen[@]}"; do
  IFS='|' read -r name venv _ sigma_target options <<<"$row"
  start=$(now)
  # shellcheck disable=SC2086
  "$venvs/$venv/bin/sigma" convert -t "$sigma_target" $options -s -o /dev/null "${dirs[@]}" >/dev/null 2>&1 || true
  s=$(secs "$start" "$(now)")
  total=$(python3 -c "print($total + $s)")
  printf '%-16s %12.1f\n' "$name" "$s"
done
printf '%-16s %12.1f\n' "sigma total" "$total"
printf '%-16s %12.2f   (%d targets in one run)\n' "sigil" "$sigil_s" "${#chosen[@]}"
printf 'ratio: %.0fx\n' "$(python3 -c "print($total / $sigil_s)")"
