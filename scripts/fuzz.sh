#!/usr/bin/env bash
# Fuzz the budget library's untrusted-input paths (job comments, qubemem.conf) with libFuzzer
# under AddressSanitizer for SECONDS (default 60). Exits non-zero on any crash; the crashing input
# is left in .build/fuzz/ as crash-*.
#   scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
seconds=${1:-60}
out=.build/fuzz
mkdir -p "$out/corpus"
cp -n fuzz/corpus/* "$out/corpus/" 2>/dev/null || true
mapfile -t sources < <(find Sources/QubeMem -name '*.swift' | sort)
swiftc -sanitize=fuzzer,address -parse-as-library -module-name QubeMem -g \
    "${sources[@]}" fuzz/FuzzQubeMem.swift -o "$out/fuzz-qubemem"
cd "$out"
./fuzz-qubemem -dict=../../fuzz/comment.dict -max_total_time="$seconds" -max_len=4096 \
    -print_final_stats=1 corpus 2>&1 | tail -15
