#!/usr/bin/env bash
# The rule-loading part of `sigil hunt --threads 1`'s startup: loading every rule of a
# folder with sigil-load and running each through both default pipeline sets, on one
# thread, PASSES times; prints CPU time per phase (min and median). The engine's compile
# is not included (see bench/hunt.sh for the whole hunt).
#
# Usage: bench/startup.sh [RULES] [PASSES]
#   RULES   default ../shared/corpus/sigma/rules/windows (2,407 rules)
#   PASSES  default 20
# To compare two versions, run this script in each checkout in one session: the machines
# are shared and noisy, so only numbers of one run compare.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# The bench is its own workspace; the workspace's lock file pins the same versions.
cp "$here/../Cargo.lock" "$here/startup/Cargo.lock"
cargo build --release -q --manifest-path "$here/startup/Cargo.toml"
target="${CARGO_TARGET_DIR:-$here/startup/target}"
"$target/release/sigil-bench-startup" "$@"
