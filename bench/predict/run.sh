#!/usr/bin/env bash
# Issue 2's speed figures, side by side in one run:
#   1. in-process budget computation: qubemem's library vs QUBE's own Python model, same configs;
#   2. whole process: `qubemem predict` vs `qube-memory-budget`, same arguments (hyperfine).
# Usage: bench/predict/run.sh [N_CONFIGS]   (needs: swift, python3 with qube-qml, hyperfine)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
n=${1:-10000}
make release >/dev/null
swift build -c release --product qubemem-bench -Xswiftc -static-stdlib >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 bench/predict/configs.py "$n" >"$tmp/configs.txt"
swift_line=$(.build/release/qubemem-bench 7 <"$tmp/configs.txt")
python_line=$(python3 bench/predict/reference_bench.py 7 <"$tmp/configs.txt")
echo "qubemem library : $swift_line"
echo "QUBE reference  : $python_line"
python3 - "$swift_line" "$python_line" <<'PY'
import sys
def fields(line):
    return dict(kv.split("=") for kv in line.split())
s, p = fields(sys.argv[1]), fields(sys.argv[2])
assert s["checksum"] == p["checksum"], f"different results: {s['checksum']} != {p['checksum']}"
ratio = float(p["best_ns_per_config"]) / float(s["best_ns_per_config"])
print(f"in-process: {float(s['best_ns_per_config']):.0f} ns vs {float(p['best_ns_per_config']):.0f} ns per config "
      f"-> qubemem {ratio:.0f}x faster (same {s['configs']} configs, same checksum)")
PY
args=(--path harmonic --n-pix 59136 --n-modes 33274 --lmax-signal 256 --lmax 128)
hyperfine -N --warmup 3 --min-runs 20 --export-markdown "$tmp/hf.md" \
    ".build/release/qubemem predict ${args[*]}" "qube-memory-budget ${args[*]}" >/dev/null
cat "$tmp/hf.md"
