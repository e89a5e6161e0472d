#!/bin/sh
# Warns when hot-functions.order has gone stale: most of its names no longer exist in the .so
# (renamed or re-specialised functions). A stale list still links; the hot path is only spread
# over more pages again. Fails only when the list matches almost nothing.
# Usage: tests/check-hot-order.sh PLUGIN.so hot-functions.order
set -eu
so=$1 order=$2
total=$(grep -c . "$order")
found=$(nm --defined-only "$so" | awk '{print $NF}' | sort -u | grep -Fxc -f "$order" || true)
echo "check-hot-order: $found of $total names in $order are in $so"
if [ "$found" -lt $((total * 9 / 10)) ]; then
	echo "check-hot-order: stale list; run 'make -C plugin hot-order'" >&2
fi
[ "$found" -ge $((total / 2)) ]
