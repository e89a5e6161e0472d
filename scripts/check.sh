#!/usr/bin/env bash
# `make check`: install what the tests need, build everything, start the local SLURM sandbox with
# the plugin, run the Swift suites and the pytest suites (oracle, plugin, audit, profile), stop
# the sandbox. Exits non-zero if anything fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n== %s\n' "$*"; }

step "dependencies"
scripts/install-deps.sh

step "build"
swift build
make release

step "fuzz every parser of outside input, briefly (make fuzz FUZZ_SECONDS=N for long runs)"
scripts/fuzz.sh "${QUBEMEM_FUZZ_SECONDS:-15}"

step "plugin"
make -C plugin

step "sandbox SLURM"
export QUBEMEM_PLUGIN_DIR="$PWD/plugin/build"
scripts/sandbox.sh start
trap 'scripts/sandbox.sh stop' EXIT
eval "$(scripts/sandbox.sh env)"

step "man/qubemem.1 is generated from the current help"
make man >/dev/null
git diff --exit-code man/qubemem.1 || { echo "man/qubemem.1 is stale: run 'make man' and commit it" >&2; exit 1; }

step "swift test"
swift test

step "pytest"
export QUBEMEM="$PWD/.build/release/qubemem"
python3 -m pytest -q tests/
