#!/usr/bin/env bash
# `make check`: install what the tests need, build everything, start the local SLURM sandbox with
# the plugin, run the Swift suites and the pytest suites (oracle, plugin, audit, profile), stop
# the sandbox; then the multi-node suite on a 3-node sandbox of the host's SLURM (tests/multinode,
# MPI QUBE across nodes); then the plugin and audit sandbox suites again against each other SLURM release
# (QUBEMEM_CHECK_RELEASES, default "24.11 26.05"; each in a Debian root made once and cached
# under .cache/roots/, see scripts/slurm-root.sh). Exits non-zero if anything fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
RELEASES=${QUBEMEM_CHECK_RELEASES-24.11 26.05}

step() { printf '\n== %s\n' "$*"; }

step "dependencies"
scripts/install-deps.sh

step "build"
swift build
make release

step "fuzz every parser of outside input, briefly and reproducibly (make fuzz FUZZ_SECONDS=N for long random runs)"
# A fixed seed and a fixed number of executions: every machine tries the same inputs, so a crash
# seen in CI is seen again here. The long random runs are `make fuzz`.
# yaml runs fewer: Yams and libyaml through ASan take about 2,000 inputs a second (the others
# 4,000-13,000), so 100,000 is about a minute.
FUZZ_SEED=${QUBEMEM_FUZZ_SEED:-1} FUZZ_RUNS=${QUBEMEM_FUZZ_RUNS:-200000} scripts/fuzz.sh 0 $(scripts/fuzz.sh --list | grep -vx yaml)
FUZZ_SEED=${QUBEMEM_FUZZ_SEED:-1} FUZZ_RUNS=${QUBEMEM_FUZZ_YAML_RUNS:-${QUBEMEM_FUZZ_RUNS:-100000}} scripts/fuzz.sh 0 yaml

step "plugin, for the host's SLURM and for ${RELEASES:-no other release}"
make -C plugin
for release in $RELEASES; do make -C plugin SLURM_RELEASE="$release"; done

step "Debian packages (make deb, lintian included; tests/packages/ installs them with apt)"
make deb DEB_SLURM_RELEASES="$RELEASES"

step "sandbox SLURM"
export QUBEMEM_PLUGIN_DIR="$PWD/plugin/build"   # sandbox.sh picks build/<its version>/
unset QUBEMEM_SANDBOX_RELEASE
scripts/sandbox.sh start
STARTED=(host)
stop_all() {
    local r
    for r in "${STARTED[@]}"; do
        if [[ $r == nodes ]]; then scripts/sandbox.sh stop --nodes 3 || true
        else scripts/sandbox.sh stop --release "$r" || true; fi
    done
}
trap stop_all EXIT
eval "$(scripts/sandbox.sh env)"

step "man/qubemem.1 is generated from the current help"
make man >/dev/null
git diff --exit-code man/qubemem.1 || { echo "man/qubemem.1 is stale: run 'make man' and commit it" >&2; exit 1; }

step "swift test"
swift test

step "pytest"
export QUBEMEM="$PWD/.build/release/qubemem"
python3 -m pytest -q tests/ --ignore=tests/multinode

# Its own step: a sandbox of its own (.sandbox-nodes, other ports), stopped when done. The 24.11 and
# 26.05 suites below stay one-node: the multi-node sandbox runs the host's release only.
step "multi-node sandbox (3 nodes, a network namespace each): MPI QUBE across nodes, audit per node, a node that dies"
STARTED+=(nodes)
QUBEMEM_SANDBOX_NODES=3 python3 -m pytest -q tests/multinode
scripts/sandbox.sh stop --nodes 3
scripts/sandbox.sh stop --nodes 3   # a second stop finds nothing and succeeds
tag=$((6814 + ${QUBEMEM_SANDBOX_PORT_OFFSET:-0}))
if ip netns list | grep -q "^qubemem-$tag-" || ip -o link show | grep -qE ": (qmbr$tag|qm${tag}n[0-9]+)[@:]"; then
    echo "sandbox.sh stop --nodes 3 left namespaces, veths or the bridge behind:" >&2
    ip netns list >&2; ip -o link show >&2
    exit 1
fi

# The same plugin and audit suites against each other release's own daemons and clients. Each
# sandbox has its own state folder and ports, and is stopped when its suites are done.
for release in $RELEASES; do
    step "plugin and audit suites on SLURM $release"
    STARTED+=("$release")
    scripts/sandbox.sh start --release "$release"
    # test_mpi_jobs.py (main's MPI suite) runs mpich and mpi4py from pip inside its jobs; the
    # roots' python3 has numpy only, so that suite runs on the host release alone.
    QUBEMEM_SANDBOX_RELEASE=$release python3 -m pytest -q tests/plugin tests/audit/test_audit_sandbox.py \
        tests/audit/test_jobstats.py --ignore=tests/plugin/test_mpi_jobs.py
    scripts/sandbox.sh stop --release "$release"
done
