#!/usr/bin/env bash
# The network of a multi-node SLURM sandbox (scripts/sandbox.sh start --nodes N): one network
# namespace per node, joined by a veth pair each to one bridge in the host's namespace.
#
# Usage: scripts/sandbox-net.sh up|down|pids|addr TAG N [NODE]
#   TAG   a number naming this sandbox's network (sandbox.sh gives its slurmctld port, e.g. 6814)
#   N     how many nodes
#   up    make bridge qmbrTAG with 198.18.X.1/24 (X = TAG mod 256), and for node i (1..N) the
#         namespace qubemem-TAG-ni, a veth pair qmTAGni (host side, on the bridge) / qm0 (inside),
#         address 198.18.X.(i+1)/24, and lo up. Whatever already exists is kept.
#   down  kill what still runs in the namespaces (by pid), delete namespaces, veths and bridge
#         (every one of this TAG, whatever N); quiet and successful when they are already gone
#   pids  the pids of the processes in node NODE's namespace, one a line
#   addr  node NODE's address (NODE 0: the bridge's, where slurmctld is reached)
#
# Why this layout: every node keeps SLURM's standard view of itself (its own address, slurmd on
# the usual port), traffic between nodes really crosses a network (MPI ranks on two nodes talk
# over the veths, not over loopback), and killing a namespace's processes is a node dying.
# 198.18.0.0/15 is the range RFC 2544 reserves for benchmark tests: no real network uses it.
# The interface inside every namespace has the same name (qm0), so one setting (mpiexec -iface
# qm0) fits every node of a job.
set -euo pipefail

die() { echo "sandbox-net: error: $*" >&2; exit 1; }

COMMAND=${1:-}
TAG=${2:-}
N=${3:-}
[[ $COMMAND =~ ^(up|down|pids|addr)$ && $TAG =~ ^[0-9]+$ && $N =~ ^[0-9]+$ ]] ||
    { sed -n '2,/^set -euo/p' "$0" | sed -n 's/^# \{0,1\}//p' >&2; exit 64; }
OCTET=$((TAG % 256))
BRIDGE=qmbr$TAG
((N <= 250)) || die "at most 250 nodes (one /24)"

netns() { echo "qubemem-$TAG-n$1"; }
host_veth() { echo "qm${TAG}n$1"; }
addr() { echo "198.18.$OCTET.$(($1 + 1))"; }

link_exists() { ip link show "$1" >/dev/null 2>&1; }
netns_exists() { [[ -e /run/netns/$1 ]]; }

up() {
    if ! link_exists "$BRIDGE"; then
        ip link add "$BRIDGE" type bridge
        ip addr add "$(addr 0)/24" dev "$BRIDGE"
    fi
    ip link set "$BRIDGE" up
    local i ns veth
    for ((i = 1; i <= N; i++)); do
        ns=$(netns "$i")
        veth=$(host_veth "$i")
        netns_exists "$ns" || ip netns add "$ns"
        if ! link_exists "$veth"; then
            # The inside end is made with a unique name, then moved and renamed qm0.
            ip link add "$veth" type veth peer name "${veth}p"
            ip link set "${veth}p" netns "$ns"
            ip -n "$ns" link set "${veth}p" name qm0
            ip -n "$ns" addr add "$(addr "$i")/24" dev qm0
        fi
        ip link set "$veth" master "$BRIDGE" up
        ip -n "$ns" link set qm0 up
        ip -n "$ns" link set lo up
    done
}

ns_pids() {
    if netns_exists "$(netns "$1")"; then ip netns pids "$(netns "$1")" 2>/dev/null || true; fi
}

# down works from what exists (namespaces qubemem-TAG-n*, veths qmTAGn*), not from N: a start
# that failed half-way, or was asked for another N, leaves nothing behind.
down() {
    local ns i pids veth
    for ns in /run/netns/qubemem-"$TAG"-n*; do
        [[ -e $ns ]] || continue
        i=${ns##*-n}
        # A namespace lives on while a process is in it: stop them first (slurmstepd, job tasks
        # left after their slurmd stopped), TERM then KILL.
        pids=$(ns_pids "$i")
        if [[ -n $pids ]]; then
            # shellcheck disable=SC2086  # one pid a word
            kill -TERM $pids 2>/dev/null || true
            local deadline=$((SECONDS + 10))
            while [[ -n $(ns_pids "$i") ]] && ((SECONDS < deadline)); do sleep 0.2; done
            pids=$(ns_pids "$i")
            # shellcheck disable=SC2086
            if [[ -n $pids ]]; then kill -KILL $pids 2>/dev/null || true; sleep 0.3; fi
        fi
        ip netns del "${ns##*/}"   # also deletes qm0 and so its host-side peer
    done
    for veth in $(ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | grep -E "^qm${TAG}n[0-9]+\$" || true); do
        ip link del "$veth" 2>/dev/null || true
    done
    if link_exists "$BRIDGE"; then ip link del "$BRIDGE"; fi
    return 0
}

case $COMMAND in
    up) up ;;
    down) down ;;
    pids) ns_pids "${4:?node number}" ;;
    addr) addr "${4:?node number}" ;;
esac
