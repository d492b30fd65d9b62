#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/) with clang into build-fuzz/ and runs each one for
# a fixed number of inputs, starting from the seed corpus in fuzz/corpus/. The test
# suite runs it as the `fuzz` CTest entry; a crash or sanitizer report fails it.
#   scripts/fuzz.sh [RUNS]   (default 20000 per target)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20000}
if [[ ! -f build-fuzz/CMakeCache.txt ]]; then
  CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -G Ninja -DNUCLEO_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
if ! build_log=$(cmake --build build-fuzz --parallel "${NUCLEO_BUILD_JOBS:-2}" 2>&1); then
  echo "$build_log" | grep -E "error|undefined reference|FAILED" | head -20 >&2
  echo "the fuzz targets did not build (clang-14, build-fuzz/)" >&2
  exit 1
fi
for target in canonical_json proof_parsers bundle_reader http_request email_message csv; do
  corpus=$(mktemp -d)
  cp fuzz/corpus/"$target"/* "$corpus"/
  echo "fuzz_$target: $runs runs" >&2
  if ! build-fuzz/fuzz/fuzz_"$target" -runs="$runs" -max_len=4096 -artifact_prefix="$corpus.crash-" \
       "$corpus" >"$corpus.log" 2>&1; then
    tail -40 "$corpus.log" >&2
    echo "fuzz_$target failed; reproduce with: build-fuzz/fuzz/fuzz_$target $corpus.crash-*" >&2
    exit 1
  fi
  tail -1 "$corpus.log" >&2
  rm -rf "$corpus" "$corpus.log"
done
