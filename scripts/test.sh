#!/usr/bin/env bash
# The test job (what CI runs via .ci/run): install what is missing, build with tests and run
# them; then once more under AddressSanitizer + UndefinedBehaviorSanitizer; then run every
# libFuzzer target for a short while. Set TRIBEV2_TEST_QUICK=1 to skip the last two.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh --test
jobs=$(nproc)
# A compiler cache when the machine has one (developers' machines; CI builds from scratch).
launcher=()
if command -v ccache >/dev/null 2>&1; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi

echo "== build + unit tests (Release)"
cmake -S . -B build-test -G Ninja -DCMAKE_BUILD_TYPE=Release -DTRIBEV2_BUILD_TESTS=ON -DTRIBEV2_WERROR=ON "${launcher[@]}"
cmake --build build-test --parallel "$jobs"
ctest --test-dir build-test --output-on-failure --parallel "$jobs"

if [[ "${TRIBEV2_TEST_QUICK:-0}" == "1" ]]; then exit 0; fi

echo "== unit tests under AddressSanitizer + UBSan"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTRIBEV2_BUILD_TESTS=ON -DTRIBEV2_SANITIZE=ON "${launcher[@]}"
cmake --build build-asan --parallel "$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure --parallel "$jobs" --label-exclude slurm  # Slurm: the first stage

echo "== fuzzers (libFuzzer, ${TRIBEV2_FUZZ_SECONDS:-60} s each)"
CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DTRIBEV2_BUILD_TESTS=OFF -DTRIBEV2_FUZZ=ON "${launcher[@]}"
cmake --build build-fuzz --parallel "$jobs"
./fuzz/run_fuzzers.sh build-fuzz "${TRIBEV2_FUZZ_SECONDS:-60}"
echo "== all tests passed"
