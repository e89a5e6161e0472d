# Sourced by scripts/sandbox.sh for a multi-node sandbox (--nodes N, N > 1): the nodes' names,
# files and slurm.conf lines, and how each node's slurmd is started in its network namespace
# (scripts/sandbox-net.sh makes and removes the namespaces).
#
# Node i (1..N) is NodeName=<host>-q<port>n<i> at 198.18.X.(i+1), its slurmd inside namespace
# qubemem-<port>-n<i> with spool spool/d-<node>, log log/slurmd-<node>.log and pid file
# run/slurmd-<node>.pid (slurm.conf's %n). slurmctld stays in the host's namespace and is reached
# at the bridge's address 198.18.X.1. Debian's SLURM is built for several slurmd on one host, so
# each node gets its own cgroup tree (slurm_<node>), hence its own memory enforcement.
# shellcheck shell=bash
# PIDFILE, LOGFILE and PROCNAME are sandbox.sh's associative arrays (hence $key, and "unused" here).
# shellcheck disable=SC2034,SC2004

NET=$REPO/scripts/sandbox-net.sh
NODE_PREFIX="$(hostname -s)-q${PORT_BASE}n"

# node_name I: the SLURM name of node I.
node_name() { echo "$NODE_PREFIX$1"; }

# Every node up to N, and for stopping also the slurmd of nodes above N still recorded in run/
# (a sandbox started before with more nodes).
SLURMDS=()
ALL_SLURMDS=()
declare -A NODE_OF=()   # slurmd key -> node number
_add_node_key() {
    local key=slurmd-n$1
    PIDFILE[$key]=$RUN/slurmd-$(node_name "$1").pid
    LOGFILE[$key]=$LOG/slurmd-$(node_name "$1").log
    PROCNAME[$key]=slurmd
    NODE_OF[$key]=$1
    ALL_SLURMDS+=("$key")
}
for ((_i = 1; _i <= NODES; _i++)); do
    _add_node_key "$_i"
    SLURMDS+=("slurmd-n$_i")
done
for _f in "$RUN"/slurmd-"$NODE_PREFIX"*.pid; do
    [[ -e $_f ]] || continue
    _i=${_f%.pid}
    _i=${_i##*n}
    [[ $_i =~ ^[0-9]+$ ]] && ((_i > NODES)) && _add_node_key "$_i"
done
unset _i _f

# Each node's CPUs and memory. The machine's memory is split between the nodes (what each node
# offers is what its cgroup enforces). CPUs: an even share of the machine's, but at least 4 per
# node, so that uneven layouts (-n 5 -N 2: 3 ranks on one node) fit on a small machine; slurmd
# then reports the configured figures (SlurmdParameters=config_overrides), not the hardware's.
node_resources() {
    local real cpus
    real=$(slurmd -C 2>/dev/null | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' | head -n 1)
    [[ -n $real ]] || die "slurmd -C gave no RealMemory"
    cpus=${QUBEMEM_SANDBOX_NODE_CPUS:-$(($(nproc) / NODES))}
    ((cpus >= 4)) || cpus=${QUBEMEM_SANDBOX_NODE_CPUS:-4}
    NODE_CPUS=$cpus
    NODE_MEMORY=$((real / NODES))
}

# The slurm.conf lines that differ for several nodes (printed; sandbox.sh puts them in the file).
#  - SlurmdTimeout: a node whose slurmd stopped answering is DOWN after 10 s (the default is 300),
#    so a node that dies fails its jobs within a test's time; slurmctld pings every node well
#    inside that, so a busy but living node is not marked down.
#  - JobRequeue=0: a job on a failed node stays NODE_FAIL instead of being queued again, so its
#    accounting row is final.
multi_conf_lines() {
    local i
    echo "SlurmdParameters=config_overrides"
    echo "SlurmdTimeout=10"
    echo "JobRequeue=0"
    for ((i = 1; i <= NODES; i++)); do
        echo "NodeName=$(node_name "$i") NodeAddr=$("$NET" addr "$PORT_BASE" "$NODES" "$i") CPUs=$NODE_CPUS Boards=1 SocketsPerBoard=1 CoresPerSocket=$NODE_CPUS ThreadsPerCore=1 RealMemory=$NODE_MEMORY State=UNKNOWN"
    done
}

# start_node_slurmd KEY: that node's slurmd, in its namespace (nsenter enters the network
# namespace only: `ip netns exec` would also mount a new /sys, hiding the cgroup hierarchy the
# node's memory enforcement needs).
start_node_slurmd() {
    local key=$1 i=${NODE_OF[$1]}
    nsenter --net="/run/netns/qubemem-$PORT_BASE-n$i" /usr/sbin/slurmd 9>&- -N "$(node_name "$i")" ||
        { tail_log "$key"; die "slurmd of node $i did not start"; }
}

net_up() { "$NET" up "$PORT_BASE" "$NODES"; }
net_down() { "$NET" down "$PORT_BASE" "$NODES"; }
ctld_addr() { "$NET" addr "$PORT_BASE" "$NODES" 0; }
