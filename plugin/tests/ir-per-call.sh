#!/bin/sh
# Instructions executed per job_submit call, counted by valgrind's callgrind: a figure that does
# not move with the load on the machine, for comparing two builds of the plugin side by side.
#
# Usage: tests/ir-per-call.sh HARNESS PLUGIN.so [CONFIG_TEXT]
#   HARNESS      an optimised harness (build/RELEASE/bench-harness)
#   CONFIG_TEXT  the qubemem.conf to run under (default: empty, every default)
# Prints, for each of the bench's comments, the instructions from job_submit's entry to its
# return, the shim and SLURM's allocator included, averaged over the harness's four calls of
# mode "trace" (the first also pays the dynamic linker's lazy binding, about 60 per call).
set -eu
harness=$1 so=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
printf '%s\n' "${3:-}" >"$dir/qubemem.conf"
count() {
	valgrind --tool=callgrind --callgrind-out-file="$dir/out" --toggle-collect=job_submit \
		"$harness" trace "$so" "$dir" "$2" >/dev/null 2>&1
	total=$(callgrind_annotate "$dir/out" | sed -n 's/^ *\([0-9,]*\) .*PROGRAM TOTALS.*/\1/p' | tr -d ,)
	printf '%-30s %8d\n' "$1" $((total / 4))
}
count "typical (pixel_direct)" "qube: path=pixel_direct n_pix=3008 lmax=32 fields=QU"
count "typical (harmonic, derived)" "qube: path=harmonic fields=QU nside=32 fsky=0.1 lmax=64"
count "worst valid (auto, all keys)" "note; qube: model=1.3 path=auto fields=TQU nside=64 fsky=0.25 lmax_signal=256 lmax=128 n_bins=64 n_params=384 working_dim=20000 keep_v=no cache=yes; more text"
count "malformed (rejected)" "qube: n_pix=3 n_pix=4 %s%n"
