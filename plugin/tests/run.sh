#!/bin/sh
# Runs the C-boundary harness against the built plugin in a scratch config folder.
# Usage: tests/run.sh HARNESS PLUGIN.so [test|bench] [N]
set -eu
harness=$1 so=$2 mode=${3:-test}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
# detect_leaks: the Swift runtime keeps its metadata caches for the life of the process.
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1} \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1} \
    "$harness" "$mode" "$so" "$dir" ${4:-}
