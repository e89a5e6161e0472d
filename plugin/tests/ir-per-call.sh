#!/bin/sh
# Instructions executed per job_submit call, counted by valgrind's callgrind: a figure that does
# not move with the load on the machine, for comparing two builds of the plugin side by side.
#
# Usage: tests/ir-per-call.sh HARNESS PLUGIN.so [CONFIG_TEXT]
#   HARNESS      an optimised harness (build/RELEASE/bench-harness)
#   CONFIG_TEXT  the qubemem.conf to run under (default: empty, every default)
# Prints, for each of the bench's qube: comments (`HARNESS list`), the instructions from job_submit's entry to its
# return, the shim and SLURM's allocator included, averaged over the harness's four calls of
# mode "trace" (the first also pays the dynamic linker's lazy binding, about 60 per call).
set -eu
harness=$1 so=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
printf '%s\n' "${3:-}" >"$dir/qubemem.conf"
count() {
	valgrind --tool=callgrind --callgrind-out-file="$dir/out" --toggle-collect=job_submit \
		"$harness" trace "$so" "$dir" "$2" </dev/null >/dev/null 2>&1
	total=$(callgrind_annotate "$dir/out" | sed -n 's/^ *\([0-9,]*\) .*PROGRAM TOTALS.*/\1/p' | tr -d ,)
	printf '%-30s %8d\n' "$1" $((total / 4))
}
"$harness" list | while IFS='	' read -r name comment; do
	count "$name" "$comment"
done
