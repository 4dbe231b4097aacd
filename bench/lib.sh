# Pieces the benchmark scripts share (sourced by them, not run). They expect `$shared` to
# name ../shared/corpus and are called from the repository's root.

# Where cargo puts the release binaries of this workspace.
bench_release_dir() {
  echo "$(cargo metadata --format-version 1 --no-deps \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release"
}

# bench_evtx_copies LOGS N: N copies of the corpus's EVTX samples under LOGS (copy1 ... copyN),
# read once to warm the page cache; sets `files` and `bytes`.
bench_evtx_copies() {
  local logs="$1" copies="$2" i
  mkdir -p "$logs"
  for i in $(seq 1 "$copies"); do cp -r "$shared/evtx" "$logs/copy$i"; done
  files=$(find "$logs" -name '*.evtx' | wc -l)
  bytes=$(du -sb "$logs" | cut -f1)
  find "$logs" -name '*.evtx' -exec cat {} + > /dev/null
}
