#!/usr/bin/env bash
# A SLURM cluster on this machine, with accounting, for qubemem's tests and benchmarks: the
# host's own SLURM (Debian 12: 22.05), or 24.11 / 26.05 running in a Debian root of that release;
# one node, or several (--nodes N) each in a network namespace of its own.
#
# Usage: scripts/sandbox.sh COMMAND [--release RELEASE] [--nodes N]
#   start         start whatever is not running; if the job_submit variant changed, restart
#                 slurmctld and slurmd with the new configuration. Returns when the node is usable.
#   stop          cancel jobs, stop all daemons (by pid file) and wait for them to exit
#   restart       restart slurmctld and slurmd with a configuration written from the environment
#   restart-ctld  restart slurmctld only (after installing a new plugin .so with mv/install)
#   status        one line per daemon; exit 0 when all are running, 3 otherwise
#   env           print `export SLURM_CONF=...` for client commands (eval "$(scripts/sandbox.sh env)"),
#                 and for a release in a root, `export PATH=...` with that release's client commands
#
# Releases (--release, or QUBEMEM_SANDBOX_RELEASE; default: the host's own):
#   the host's (22.05)  state in .sandbox/, ports 6817 6818 6819 and 13306 (MariaDB)
#   24.11, 26.05        state in .sandbox-RELEASE/, daemons and clients inside the root that
#                       scripts/slurm-root.sh makes once (Debian trixie, forky) and
#                       scripts/slurm-chroot.sh enters; ports 6827.. and 13316 (24.11),
#                       6837.. and 13326 (26.05). Client commands: .sandbox-RELEASE/bin/ (sbatch,
#                       sacct, ... run that release's own clients inside the root)
# Several sandboxes run at once; each has its own node name, cgroup tree, database and ports.
#
# Nodes (--nodes N, or QUBEMEM_SANDBOX_NODES; default 1; several nodes: the host's release only):
#   1                   today's cluster: slurmd in the host's namespace, node address 127.0.0.1
#   N > 1               a sandbox of its own beside the one-node one, so both can run at once:
#                       state in .sandbox-nodes/, ports 6814 (slurmctld) 6815 (slurmd) 6816
#                       (slurmdbd) and 13303 (MariaDB), plus the port offset. Give the same
#                       --nodes N to stop, status and env (any N > 1 names this sandbox; start
#                       with another N rebuilds its nodes). Layout, made by scripts/sandbox-net.sh:
#                         bridge qmbr<P> (P: slurmctld's port) at 198.18.X.1/24, X = P mod 256
#                           (198.18.0.0/15 is reserved for tests: no real network uses it);
#                           slurmctld, slurmdbd and the client commands stay in the host's
#                           namespace and reach the nodes through it
#                         node i = <host>-q<P>n<i>: network namespace qubemem-<P>-n<i>, a veth pair
#                           (qm<P>n<i> on the bridge, qm0 inside) at 198.18.X.(i+1), slurmd on the
#                           standard port inside it, started with nsenter and `slurmd -N <node>`;
#                           its own spool/d-<node>/, log/slurmd-<node>.log, run/slurmd-<node>.pid
#                           and cgroup tree slurm_<node> (memory enforced per node, as for one)
#                         each node: RealMemory = the machine's / N, CPUs = the machine's / N but
#                           at least 4 (QUBEMEM_SANDBOX_NODE_CPUS overrides; slurmd reports the
#                           configured figures, SlurmdParameters=config_overrides)
#                         SlurmdTimeout=10: a node whose slurmd dies is DOWN within seconds, its
#                           jobs NODE_FAIL (JobRequeue=0: they stay so)
#                       MPI across nodes: mpiexec (mpich's hydra) inside a job launches through
#                       srun; give it `-iface qm0` so that ranks and proxies use the nodes' own
#                       addresses (the host name resolves to 127.0.0.1, each namespace's own).
#                       stop kills what is left in the namespaces (by pid, from `ip netns pids`)
#                       and removes namespaces, veths and bridge, also after a failed start.
#
# Environment read by start / restart / restart-ctld (the configuration follows the environment of
# the last of these calls; restart and restart-ctld given none of the QUBEMEM_ variables below keep
# the running variant, start given none runs without a job_submit plugin):
#   QUBEMEM_PLUGIN_DIR     folder holding job_submit_qubemem.so; selects JobSubmitPlugins=qubemem
#   QUBEMEM_JOB_SUBMIT     none | qubemem | lua | keep  (default: qubemem when QUBEMEM_PLUGIN_DIR
#                          is set, else none; keep = the variant of the last start, as recorded in
#                          .sandbox/etc/variant.env)
#   QUBEMEM_LUA_SCRIPT     with QUBEMEM_JOB_SUBMIT=lua: the script, copied beside slurm.conf as
#                          job_submit.lua
#   QUBEMEM_BENCH_BRACKET  benchmarks only: folder holding bench/plugin/bracket's timer plugins,
#                          placed before and after the job_submit plugin
#   QUBEMEM_SANDBOX_MEMORY auto | cgroup | gather  (how --mem is enforced; see docs/sandbox.md)
#   QUBEMEM_SANDBOX_PORT_OFFSET added to every port of every release (default 0): a second set of
#                          sandboxes (another checkout's tests) beside the default ones. slurmctld
#                          listens on 6817 + offset (host release), slurmd and slurmdbd on the
#                          next two ports, MariaDB on slurmctld's + 6489. Any sandbox but the
#                          default one gets a node name of its own (and so its own cgroup tree).
#   QUBEMEM_SANDBOX_DB_PORT MariaDB's TCP port on 127.0.0.1 (default: as above, 13306 for the host)
#   QUBEMEM_SANDBOX_DB_POOL MariaDB's InnoDB buffer pool, as mariadbd takes it (default 64M; the
#                          10 M-job measurements of BENCHMARKS.md use 12G, set at start-up: a pool
#                          grown later with SET GLOBAL keeps its start-up page hash, whose long
#                          chains cost the server a seventh of its time on the job records)
#   QUBEMEM_SANDBOX_TIMEOUT seconds to wait for each daemon or state (default 60)
#
# All state lives in $REPO/.sandbox or .sandbox-RELEASE (etc/ log/ run/ spool/ mysql/ munge/).
# Nothing under /etc is written. Must run as root: slurmd and the daemons' users (munge, mysql,
# slurm) need it.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
ORIGINAL_ARGS=("$@")
COMMAND=${1:-}
[[ $# -gt 0 ]] && shift
RELEASE=${QUBEMEM_SANDBOX_RELEASE:-}
NODES=${QUBEMEM_SANDBOX_NODES:-1}
while [[ $# -gt 0 ]]; do
    case $1 in
        --release) RELEASE=${2:-}; shift 2 || { echo "sandbox: --release needs a value" >&2; exit 64; } ;;
        --release=*) RELEASE=${1#--release=}; shift ;;
        --nodes) NODES=${2:-}; shift 2 || { echo "sandbox: --nodes needs a value" >&2; exit 64; } ;;
        --nodes=*) NODES=${1#--nodes=}; shift ;;
        *) echo "sandbox: unknown argument '$1'" >&2; exit 64 ;;
    esac
done
HOST_VERSION=$(/usr/sbin/slurmctld -V 2>/dev/null | awk '{print $NF}') || true
HOST_RELEASE=${HOST_VERSION%.*}
[[ -z $RELEASE || $RELEASE == host ]] && RELEASE=${HOST_RELEASE:-host}
# ROOT: empty for the host's SLURM, else the root holding the release (made by cmd_start).
ROOT=""
[[ $NODES =~ ^[1-9][0-9]*$ ]] || { echo "sandbox: --nodes must be a positive number (got '$NODES')" >&2; exit 64; }
# MULTI: the multi-node sandbox (a sandbox of its own beside the one-node one, see sandbox-nodes.sh).
MULTI=false
if ((NODES > 1)); then
    MULTI=true
    [[ $RELEASE == "$HOST_RELEASE" || $RELEASE == host || -z $HOST_RELEASE ]] ||
        { echo "sandbox: --nodes runs the host's SLURM only (not --release $RELEASE)" >&2; exit 64; }
    RELEASE=${HOST_RELEASE:-host}
fi
case $RELEASE in
    "$HOST_RELEASE" | host)
        if $MULTI; then
            # 6814-6816 and 13303: below the one-node sandboxes' ports, and off their grid of tens,
            # so that no port offset of theirs lands on these.
            SB=$REPO/.sandbox-nodes; DEFAULT_PORT_BASE=6814
        else
            SB=$REPO/.sandbox; DEFAULT_PORT_BASE=6817
        fi ;;
    24.11) SB=$REPO/.sandbox-24.11; DEFAULT_PORT_BASE=6827 ;;
    26.05) SB=$REPO/.sandbox-26.05; DEFAULT_PORT_BASE=6837 ;;
    *) echo "sandbox: release must be ${HOST_RELEASE:-the host\'s}, 24.11 or 26.05 (got '$RELEASE')" >&2; exit 64 ;;
esac
if [[ $SB != "$REPO/.sandbox" && $SB != "$REPO/.sandbox-nodes" ]]; then
    ROOT=${QUBEMEM_ROOTS_DIR:-$REPO/.cache/roots}/$RELEASE
fi
PORT_OFFSET=${QUBEMEM_SANDBOX_PORT_OFFSET:-0}
[[ $PORT_OFFSET =~ ^[0-9]+$ ]] || { echo "sandbox: QUBEMEM_SANDBOX_PORT_OFFSET must be a number" >&2; exit 64; }
PORT_BASE=$((DEFAULT_PORT_BASE + PORT_OFFSET))
CTLD_PORT=$PORT_BASE
SLURMD_PORT=$((PORT_BASE + 1))
DBD_PORT=$((PORT_BASE + 2))
ETC=$SB/etc
LOG=$SB/log
RUN=$SB/run
SPOOL=$SB/spool
DBDIR=$SB/mysql
MUNGEDIR=$SB/munge
CONF=$ETC/slurm.conf
MUNGE_SOCKET=$RUN/munge/munge.socket.2
DB_SOCKET=$RUN/mysql/mysqld.sock
DB_PORT=${QUBEMEM_SANDBOX_DB_PORT:-$((PORT_BASE + 6489))}
DB_POOL=${QUBEMEM_SANDBOX_DB_POOL:-64M}
BIN=$SB/bin
IN_ROOT=()
[[ -n $ROOT ]] && IN_ROOT=("$REPO/scripts/slurm-chroot.sh" "$ROOT")
# The default sandbox keeps the host's name as node name; any other gets its own, so that slurmd's
# cgroup tree (slurm_<node>, Debian builds SLURM with multiple-slurmd support) is its own too.
NODE_NAME="" NODE_OPT=""
if [[ -n $ROOT || $PORT_BASE != 6817 ]] && ! $MULTI; then
    NODE_NAME="$(hostname -s)-q$PORT_BASE"
    NODE_OPT="-N $NODE_NAME"
fi
CLUSTER=qubesandbox
START_TIMEOUT=${QUBEMEM_SANDBOX_TIMEOUT:-60}   # seconds, per wait

export SLURM_CONF=$CONF

# Daemons: pid file, log file (the start order is DAEMONS, below).
declare -A PIDFILE=(
    [munged]=$RUN/munge/munged.pid
    [mariadbd]=$RUN/mysql/mariadbd.pid
    [slurmdbd]=$RUN/slurm/slurmdbd.pid
    [slurmctld]=$RUN/slurm/slurmctld.pid
    [slurmd]=$RUN/slurmd.pid
)
declare -A LOGFILE=(
    [munged]=$LOG/munged.log
    [mariadbd]=$LOG/mariadb.log
    [slurmdbd]=$LOG/slurmdbd.log
    [slurmctld]=$LOG/slurmctld.log
    [slurmd]=$LOG/slurmd.log
)
# The process name of a daemon key, where it is not the key itself (slurmd-n2 is a slurmd).
declare -A PROCNAME=()
# SLURMDS: the slurmd keys of this sandbox (slurmd, or slurmd-n1 ... slurmd-nN).
SLURMDS=(slurmd)
# shellcheck source=scripts/sandbox-nodes.sh
ALL_SLURMDS=(slurmd)
if $MULTI; then source "$REPO/scripts/sandbox-nodes.sh"; fi
# Daemons in start order.
DAEMONS=(munged mariadbd slurmdbd slurmctld "${SLURMDS[@]}")

say() { echo "sandbox: $*"; }
die() { echo "sandbox: error: $*" >&2; exit 1; }

# in_root COMMAND...: run a SLURM, munge or MariaDB program of the sandbox's release (inside its
# root, or on the host). as_user USER COMMAND...: the same as USER.
in_root() {
    if [[ -n $ROOT ]]; then "$REPO/scripts/slurm-chroot.sh" "$ROOT" "$@"; else "$@"; fi
}
as_user() {
    local user=$1
    shift
    if [[ -n $ROOT ]]; then "$REPO/scripts/slurm-chroot.sh" "$ROOT" --user "$user" "$@"
    else runuser -u "$user" -- "$@"; fi
}
# owner USER: uid:gid of USER in the release's passwd (the root's users have their own ids).
owner() {
    local ids
    ids=$(awk -F: -v u="$1" '$1 == u {print $3 ":" $4}' "$ROOT/etc/passwd")
    [[ -n $ids ]] || die "no user $1 in $ROOT/etc/passwd"
    echo "$ids"
}
# install_as USER install-ARGS...: `install` with owner and group USER (as the release knows it).
install_as() {
    local ids
    ids=$(owner "$1")
    shift
    install -o "${ids%:*}" -g "${ids#*:}" "$@"
}

# The Debian plugin folder (holds auth_munge.so), as the daemons see it; the qubemem folder is
# appended to it.
default_plugin_dir() {
    local d
    for d in "$ROOT"/usr/lib/*/slurm-wlm "$ROOT"/usr/lib/slurm-wlm "$ROOT"/usr/lib64/slurm "$ROOT"/usr/lib/slurm; do
        [[ -e $d/auth_munge.so ]] && { echo "${d#"$ROOT"}"; return; }
    done
    die "no SLURM plugin folder found (is slurm-wlm-basic-plugins installed? run scripts/install-deps.sh)"
}

# pid of a running daemon, or nothing. The process name must match, so a stale pid file whose
# number was reused by another process does not count.
daemon_pid() {
    local name=$1 file=${PIDFILE[$1]} pid
    [[ -s $file && -r $file ]] || return 0
    pid=$(tr -dc '0-9' <"$file")
    [[ -n $pid ]] && alive "$pid" "${PROCNAME[$name]:-$name}" && echo "$pid"
    return 0
}

running() { [[ -n $(daemon_pid "$1") ]]; }

# alive PID NAME: the process exists, is called NAME and is not a zombie waiting to be reaped.
alive() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    [[ $stat == "$1 ($2) "* && $stat != "$1 ($2) Z"* ]]
}

tail_log() {
    local file=${LOGFILE[$1]}
    if [[ -s $file ]]; then
        echo "---- last lines of $file ----" >&2
        tail -n 25 "$file" >&2
        echo "----" >&2
    else
        echo "(no log at $file)" >&2
    fi
}

# wait_for DESCRIPTION DAEMON COMMAND...: poll COMMAND every 0.2 s until it succeeds; on timeout or
# when DAEMON died, print its log tail and fail.
wait_for() {
    local what=$1 daemon=$2
    shift 2
    local deadline=$((SECONDS + START_TIMEOUT))
    until "$@" >/dev/null 2>&1; do
        if [[ -n $daemon ]] && ! running "$daemon"; then
            tail_log "$daemon"
            die "$daemon exited while waiting for $what"
        fi
        if ((SECONDS >= deadline)); then
            [[ -n $daemon ]] && tail_log "$daemon"
            die "timed out after ${START_TIMEOUT}s waiting for $what"
        fi
        sleep 0.2
    done
}

# wait_pidfile DAEMON: a daemon that forks returns before its child writes the pid file; wait up
# to 10 s for the file to name a live process.
wait_pidfile() {
    local deadline=$((SECONDS + 10))
    until running "$1"; do
        if ((SECONDS >= deadline)); then
            tail_log "$1"
            die "$1 did not come up (no live process in ${PIDFILE[$1]})"
        fi
        sleep 0.1
    done
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# --- configuration ----------------------------------------------------------------------------------

# replace_if_changed NEW TARGET: move NEW over TARGET only when the content differs, so an unchanged
# configuration keeps its file (and inode) and nobody watching the folder sees a change.
replace_if_changed() {
    if [[ -e $2 ]] && cmp -s "$1" "$2"; then
        rm -f "$1"
    else
        mv -f "$1" "$2"
    fi
}

# visible_inside DIR: a release in a root sees only this repository and /tmp of the host.
visible_inside() {
    [[ -z $ROOT || $1/ == "$REPO"/* || $1/ == /tmp/* ]] ||
        die "$1 is not visible inside the $RELEASE root: only $REPO and /tmp are"
}

# Sets VARIANT (a key that changes whenever the slurmctld configuration must change),
# JOB_SUBMIT (none|qubemem|lua) and PLUGIN_DIR.
choose_variant() {
    local base
    base=$(default_plugin_dir)
    if [[ ${QUBEMEM_JOB_SUBMIT:-} == keep ]]; then
        # Reuse the environment recorded by the last start (none if there was none).
        unset QUBEMEM_JOB_SUBMIT QUBEMEM_PLUGIN_DIR QUBEMEM_LUA_SCRIPT QUBEMEM_BENCH_BRACKET
        # shellcheck disable=SC1091
        [[ -s $ETC/variant.env ]] && source "$ETC/variant.env"
    fi
    JOB_SUBMIT=${QUBEMEM_JOB_SUBMIT:-}
    if [[ -z $JOB_SUBMIT ]]; then
        if [[ -n ${QUBEMEM_PLUGIN_DIR:-} ]]; then JOB_SUBMIT=qubemem; else JOB_SUBMIT=none; fi
    fi
    PLUGIN_DIR=$base
    case $JOB_SUBMIT in
        none) VARIANT=none ;;
        qubemem)
            [[ -n ${QUBEMEM_PLUGIN_DIR:-} ]] || die "QUBEMEM_JOB_SUBMIT=qubemem needs QUBEMEM_PLUGIN_DIR"
            local dir so
            dir=$(cd "$QUBEMEM_PLUGIN_DIR" 2>/dev/null && pwd -P) || die "QUBEMEM_PLUGIN_DIR=$QUBEMEM_PLUGIN_DIR is not a folder"
            # A folder of builds by release (plugin/build/22.05.8/...): the running release's.
            [[ -f $dir/$SLURM_VERSION/job_submit_qubemem.so ]] && dir=$dir/$SLURM_VERSION
            so=$dir/job_submit_qubemem.so
            [[ -f $so ]] || die "no job_submit_qubemem.so in $dir (nor in $dir/$SLURM_VERSION: make -C plugin${ROOT:+ SLURM_RELEASE=$RELEASE})"
            visible_inside "$dir"
            PLUGIN_DIR=$base:$dir
            # The file's identity is part of the key: a newly installed .so means a restart.
            VARIANT="qubemem $dir $(stat -c '%d:%i:%Y:%s' "$so")"
            ;;
        lua)
            [[ -n ${QUBEMEM_LUA_SCRIPT:-} && -f ${QUBEMEM_LUA_SCRIPT:-} ]] ||
                die "QUBEMEM_JOB_SUBMIT=lua needs QUBEMEM_LUA_SCRIPT naming a file"
            # A script that does not load is fatal to slurmctld: check its syntax first.
            local why
            if command -v luac5.1 >/dev/null && ! why=$(luac5.1 -p "$QUBEMEM_LUA_SCRIPT" 2>&1); then
                die "$QUBEMEM_LUA_SCRIPT does not compile, sandbox left as it is: $why"
            fi
            VARIANT="lua $(sha256sum <"$QUBEMEM_LUA_SCRIPT" | cut -c1-16)"
            ;;
        *) die "QUBEMEM_JOB_SUBMIT must be none, qubemem, lua or keep (got '$JOB_SUBMIT')" ;;
    esac
    # Benchmark only (bench/plugin/bracket): timer plugins around the job_submit plugin.
    BRACKET=""
    if [[ -n ${QUBEMEM_BENCH_BRACKET:-} ]]; then
        BRACKET=$(cd "$QUBEMEM_BENCH_BRACKET" 2>/dev/null && pwd -P) || die "QUBEMEM_BENCH_BRACKET=$QUBEMEM_BENCH_BRACKET is not a folder"
        [[ -f $BRACKET/$SLURM_VERSION/job_submit_qmtime_begin.so ]] && BRACKET=$BRACKET/$SLURM_VERSION
        visible_inside "$BRACKET"
        [[ -f $BRACKET/job_submit_qmtime_begin.so && -f $BRACKET/job_submit_qmtime_end.so ]] ||
            die "no job_submit_qmtime_{begin,end}.so in $BRACKET (make -C bench/plugin/bracket)"
        PLUGIN_DIR=$PLUGIN_DIR:$BRACKET
        VARIANT="$VARIANT bracket $BRACKET"
    fi
    {
        printf 'QUBEMEM_JOB_SUBMIT=%q\n' "$JOB_SUBMIT"
        [[ $JOB_SUBMIT == qubemem ]] && printf 'QUBEMEM_PLUGIN_DIR=%q\n' "$(cut -d: -f2 <<<"$PLUGIN_DIR")"
        [[ -n $BRACKET ]] && printf 'QUBEMEM_BENCH_BRACKET=%q\n' "$BRACKET"
        # keep reuses the copy beside slurm.conf: the original may be a temporary file.
        [[ $JOB_SUBMIT == lua ]] && printf 'QUBEMEM_LUA_SCRIPT=%q\n' "$ETC/job_submit.lua"
        true
    } >"$SB/variant.env.new"
}

# Sets MEMORY_MODE (cgroup|gather).
choose_memory_mode() {
    MEMORY_MODE=${QUBEMEM_SANDBOX_MEMORY:-auto}
    if [[ $MEMORY_MODE == auto ]]; then
        if [[ -e /sys/fs/cgroup/memory/memory.limit_in_bytes && -d /sys/fs/cgroup/freezer ]]; then
            MEMORY_MODE=cgroup
        else
            MEMORY_MODE=gather
        fi
    fi
    case $MEMORY_MODE in cgroup|gather) ;; *) die "QUBEMEM_SANDBOX_MEMORY must be auto, cgroup or gather" ;; esac
}

make_dirs() {
    # log/ stays root's: munged refuses a log folder owned by another user. (slurmctld, running as
    # slurm, then logs "chdir(.../log): Permission denied" once; it is harmless.)
    install -d -m 0755 "$SB" "$ETC" "$LOG" "$RUN" "$SPOOL"
    # A root made again may give munge and slurm other ids: the state follows the current ones.
    if [[ -n $ROOT ]]; then
        local ids d
        for d in "$MUNGEDIR:munge" "$RUN/munge:munge" "$RUN/slurm:slurm" "$SPOOL/ctld:slurm"; do
            [[ -d ${d%:*} ]] || continue
            ids=$(owner "${d##*:}")
            chown -R "$ids" "${d%:*}"
        done
        for d in munged slurmdbd slurmctld; do
            [[ -e ${LOGFILE[$d]} ]] || continue
            if [[ $d == munged ]]; then ids=$(owner munge); else ids=$(owner slurm); fi
            chown "$ids" "${LOGFILE[$d]}"
        done
    fi
    install_as munge -d -m 0700 "$MUNGEDIR"
    install_as munge -d -m 0755 "$RUN/munge"
    install -d -m 0750 -o mysql -g mysql "$DBDIR"
    install -d -m 0755 -o mysql -g mysql "$RUN/mysql"
    install_as slurm -d -m 0755 "$RUN/slurm"
    install_as slurm -d -m 0700 "$SPOOL/ctld"
    install -d -m 0755 "$SPOOL/d"
    if $MULTI; then
        local i
        for ((i = 1; i <= NODES; i++)); do install -d -m 0755 "$SPOOL/d-$(node_name "$i")"; done
    fi
    local d
    for d in munged mariadbd slurmdbd slurmctld; do
        local owner=slurm
        [[ $d == munged ]] && owner=munge
        if [[ $d == mariadbd ]]; then
            [[ -e ${LOGFILE[$d]} ]] || install -m 0640 -o mysql -g mysql /dev/null "${LOGFILE[$d]}"
            continue
        fi
        [[ -e ${LOGFILE[$d]} ]] || install_as "$owner" -m 0640 /dev/null "${LOGFILE[$d]}"
    done
}

write_slurmdbd_conf() {
    local pass_file=$ETC/.dbpass
    if [[ ! -s $pass_file ]]; then
        (umask 077 && head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' >"$pass_file")
    fi
    DB_PASS=$(cat "$pass_file")
    local tmp=$ETC/slurmdbd.conf.new
    (umask 077 && cat >"$tmp" <<EOF
# Written by scripts/sandbox.sh; rewritten on every start.
AuthType=auth/munge
AuthInfo=socket=$MUNGE_SOCKET
DbdAddr=127.0.0.1
DbdHost=localhost
DbdPort=$DBD_PORT
SlurmUser=slurm
DebugLevel=info
LogFile=${LOGFILE[slurmdbd]}
PidFile=${PIDFILE[slurmdbd]}
PluginDir=$(default_plugin_dir)
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$DB_PORT
StorageUser=slurm
StoragePass=$DB_PASS
StorageLoc=slurm_acct_db
EOF
    )
    chown "$(owner slurm)" "$tmp"
    chmod 0600 "$tmp"
    replace_if_changed "$tmp" "$ETC/slurmdbd.conf"
    chown "$(owner slurm)" "$ETC/slurmdbd.conf"   # an unchanged file keeps its owner otherwise
}

write_slurm_conf() {
    local node
    node=$(in_root slurmd -C 2>/dev/null | head -n 1)
    [[ $node == NodeName=* ]] || die "slurmd -C gave no NodeName line"
    local host=${node#NodeName=}
    host=${host%% *}
    # Beside the default sandbox, a node name of its own: slurmd's cgroup tree is slurm_<node>.
    if [[ -n $NODE_OPT ]]; then node="NodeName=$NODE_NAME ${node#NodeName=$host }"; fi
    # One node: slurmd in the host's namespace on 127.0.0.1. Several: the lines of
    # sandbox-nodes.sh, slurmctld reached at the bridge's address, slurmd files per node (%n).
    local ctld_addr=127.0.0.1 nodes_lines="$node NodeAddr=127.0.0.1 State=UNKNOWN"
    local slurmd_pid=${PIDFILE[slurmd]} slurmd_log=${LOGFILE[slurmd]} slurmd_spool=$SPOOL/d
    if $MULTI; then
        node_resources
        ctld_addr=$(ctld_addr)
        nodes_lines=$(multi_conf_lines)
        slurmd_pid=$RUN/slurmd-%n.pid slurmd_log=$LOG/slurmd-%n.log slurmd_spool=$SPOOL/d-%n
    fi

    local proctrack task gather_params=""
    if [[ $MEMORY_MODE == cgroup ]]; then
        proctrack=proctrack/cgroup
        task=task/cgroup
    else
        proctrack=proctrack/linuxproc
        task=task/none
        gather_params="JobAcctGatherParams=OverMemoryKill"
    fi

    local submit_line=""
    case $JOB_SUBMIT in
        qubemem) submit_line="JobSubmitPlugins=qubemem" ;;
        lua)
            submit_line="JobSubmitPlugins=lua"
            install -m 0644 "$QUBEMEM_LUA_SCRIPT" "$ETC/job_submit.lua.new"
            replace_if_changed "$ETC/job_submit.lua.new" "$ETC/job_submit.lua"
            ;;
    esac
    if [[ $JOB_SUBMIT != lua ]]; then rm -f "$ETC/job_submit.lua"; fi
    if [[ -n $BRACKET ]]; then
        local inner=${submit_line#JobSubmitPlugins=}
        submit_line="JobSubmitPlugins=qmtime_begin,${inner:+$inner,}qmtime_end"
    fi

    local tmp=$ETC/slurm.conf.new
    cat >"$tmp" <<EOF
# Written by scripts/sandbox.sh; rewritten on every start. Variant: $VARIANT; memory: $MEMORY_MODE
ClusterName=$CLUSTER
SlurmctldHost=$host($ctld_addr)
SlurmUser=slurm
AuthType=auth/munge
AuthInfo=socket=$MUNGE_SOCKET
CredType=cred/munge
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
StateSaveLocation=$SPOOL/ctld
SlurmdSpoolDir=$slurmd_spool
SlurmctldPidFile=${PIDFILE[slurmctld]}
SlurmdPidFile=$slurmd_pid
SlurmctldLogFile=${LOGFILE[slurmctld]}
SlurmdLogFile=$slurmd_log
SlurmctldDebug=info
SlurmdDebug=info
DebugFlags=NO_CONF_HASH
PluginDir=$PLUGIN_DIR
$submit_line
ReturnToService=2
SchedulerType=sched/backfill
# Schedule at once when a job ends (defaults wait up to 3 s): arrays of short test jobs run at a
# few per second instead of one.
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ProctrackType=$proctrack
TaskPlugin=$task
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=1
$gather_params
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoragePort=$DBD_PORT
AccountingStoragePass=$MUNGE_SOCKET
AccountingStoreFlags=job_comment
JobCompType=jobcomp/none
MailProg=/bin/true
MinJobAge=300
EpilogSlurmctld=$ETC/epilog-slurmctld
$nodes_lines
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
    replace_if_changed "$tmp" "$CONF"

    # slurmctld's epilog runs what tests put in epilog-slurmctld.d/ (a site's epilog, such as
    # jobstats' AdminComment update: tests/audit/test_jobstats.py); nothing by default.
    mkdir -p "$ETC/epilog-slurmctld.d"
    cat >"$ETC/epilog-slurmctld.new" <<EOF
#!/bin/sh
# Written by scripts/sandbox.sh: slurmctld's epilog (EpilogSlurmctld), run as SlurmUser.
export SLURM_CONF=$CONF PATH=/usr/sbin:/usr/bin:/sbin:/bin
for f in $ETC/epilog-slurmctld.d/*; do [ -x "\$f" ] && "\$f"; done
exit 0
EOF
    chmod 0755 "$ETC/epilog-slurmctld.new"
    replace_if_changed "$ETC/epilog-slurmctld.new" "$ETC/epilog-slurmctld"

    cat >"$ETC/cgroup.conf.new" <<EOF
# Written by scripts/sandbox.sh. Used when memory mode is cgroup (cgroup v1 memory controller).
CgroupPlugin=cgroup/v1
CgroupMountpoint=/sys/fs/cgroup
ConstrainCores=no
ConstrainDevices=no
ConstrainRAMSpace=yes
AllowedRAMSpace=100
ConstrainSwapSpace=no
EOF
    replace_if_changed "$ETC/cgroup.conf.new" "$ETC/cgroup.conf"
    local layout=""
    $MULTI && layout="|nodes=$NODES cpus=$NODE_CPUS mem=$NODE_MEMORY"
    echo "$VARIANT|$MEMORY_MODE$layout" >"$ETC/variant.new"
}

# --- daemons ----------------------------------------------------------------------------------------

start_munged() {
    running munged && return 0
    local key=$MUNGEDIR/munge.key
    if [[ ! -s $key ]]; then
        (umask 077 && head -c 1024 /dev/urandom >"$key")
        chown "$(owner munge)" "$key"
        chmod 0400 "$key"
    fi
    rm -f "$MUNGE_SOCKET" "$MUNGE_SOCKET.lock"
    as_user munge /usr/sbin/munged 9>&- --socket="$MUNGE_SOCKET" --key-file="$key" \
        --pid-file="${PIDFILE[munged]}" --log-file="${LOGFILE[munged]}" \
        --seed-file="$MUNGEDIR/munged.seed" ||
        { tail_log munged; die "munged did not start"; }
    wait_pidfile munged
    wait_for "munged" munged in_root /bin/sh -c "munge -n -S '$MUNGE_SOCKET' | unmunge -S '$MUNGE_SOCKET'"
}

# MariaDB is the host's for every release: the 11.8 server of trixie and forky fails slurmdbd's
# first query there (libmariadb error 5027 on `select @var := concat('')`, so slurmdbd exits),
# while their slurmdbd works with Debian 12's 10.11. The tables are still made and used by the
# release's own slurmdbd.
db_sql() { mariadb --no-defaults --socket="$DB_SOCKET" -u root -N -B -e "$1"; }

start_mariadbd() {
    running mariadbd && return 0
    if [[ ! -d $DBDIR/data/mysql ]]; then
        rm -rf "$DBDIR/data"
        install -d -m 0750 -o mysql -g mysql "$DBDIR/data"
        mariadb-install-db --no-defaults --user=mysql --basedir=/usr --datadir="$DBDIR/data" \
            --auth-root-authentication-method=socket --skip-test-db \
            >"$LOG/mariadb-install.log" 2>&1 ||
            { tail -n 25 "$LOG/mariadb-install.log" >&2; die "mariadb-install-db failed"; }
    fi
    setsid /usr/sbin/mariadbd 9>&- --no-defaults --user=mysql --basedir=/usr --datadir="$DBDIR/data" \
        --socket="$DB_SOCKET" --pid-file="${PIDFILE[mariadbd]}" --bind-address=127.0.0.1 \
        --port="$DB_PORT" --log-error="${LOGFILE[mariadbd]}" --skip-name-resolve \
        --innodb-buffer-pool-size="$DB_POOL" --innodb-log-file-size=16M \
        </dev/null >>"$LOG/mariadb.stdout" 2>&1 &
    local launched=$! deadline=$((SECONDS + START_TIMEOUT))
    # The pid file appears once the server is up; until then watch the launched process.
    until mariadb-admin --no-defaults --socket="$DB_SOCKET" -u root ping >/dev/null 2>&1; do
        if ! kill -0 "$launched" 2>/dev/null; then
            tail_log mariadbd
            die "mariadbd exited during start-up"
        fi
        if ((SECONDS >= deadline)); then
            tail_log mariadbd
            die "timed out after ${START_TIMEOUT}s waiting for MariaDB on $DB_SOCKET"
        fi
        sleep 0.2
    done
    running mariadbd || { tail_log mariadbd; die "mariadbd is answering but its pid file is missing"; }
    db_sql "CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY '$DB_PASS';
            CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY '$DB_PASS';
            ALTER USER 'slurm'@'127.0.0.1' IDENTIFIED BY '$DB_PASS';
            ALTER USER 'slurm'@'localhost' IDENTIFIED BY '$DB_PASS';
            GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';
            GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';" ||
        die "could not create the slurm database user"
}

start_slurmdbd() {
    running slurmdbd && return 0
    in_root /usr/sbin/slurmdbd 9>&- || { tail_log slurmdbd; die "slurmdbd did not start"; }
    wait_pidfile slurmdbd
    wait_for "slurmdbd on port $DBD_PORT" slurmdbd port_open "$DBD_PORT"
}

start_slurmctld() {
    # Several nodes: the bridge carries slurmctld's address, so it comes first.
    if $MULTI; then net_up; fi
    running slurmctld && return 0
    in_root /usr/sbin/slurmctld 9>&- || { tail_log slurmctld; die "slurmctld did not start"; }
    wait_pidfile slurmctld
    wait_for "slurmctld to answer" slurmctld in_root scontrol ping
}

# start_slurmd: every node's slurmd that is not running (one node: in the host's namespace).
start_slurmd() {
    local key
    if $MULTI; then net_up; fi
    for key in "${SLURMDS[@]}"; do
        running "$key" && continue
        if $MULTI; then
            start_node_slurmd "$key"
        else
            in_root /usr/sbin/slurmd 9>&- $NODE_OPT || { tail_log slurmd; die "slurmd did not start"; }
        fi
        wait_pidfile "$key"
    done
}

# stop_slurmd: every slurmd of the sandbox, also those of nodes a previous start had and this
# one has not.
stop_slurmd() {
    local key
    for key in "${ALL_SLURMDS[@]}"; do stop_daemon "$key"; done
}

any_slurmd_running() {
    local key
    for key in "${ALL_SLURMDS[@]}"; do running "$key" && return 0; done
    return 1
}

# Every node is usable (the one node, or all N).
node_usable() {
    local states
    states=$(in_root sinfo -h -N -o '%T' 2>/dev/null)
    [[ $(grep -cE '^(idle|mixed|allocated|completing)$' <<<"$states") -eq $NODES ]]
}

cluster_registered() {
    in_root sacctmgr -n -P list cluster format=cluster,controlhost 2>/dev/null | grep -q "^$CLUSTER|."
}

wait_ready() {
    wait_for "the node(s) to be idle (sinfo)" slurmctld node_usable
    wait_for "cluster $CLUSTER in slurmdbd (sacctmgr)" slurmctld cluster_registered
}

# stop_daemon NAME: SIGTERM by pid file, wait up to 30 s, then SIGKILL.
stop_daemon() {
    local name=$1 pid
    pid=$(daemon_pid "$name")
    [[ -n $pid ]] || { rm -f "${PIDFILE[$name]}"; return 0; }
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + 30))
    while alive "$pid" "${PROCNAME[$name]:-$name}"; do
        if ((SECONDS >= deadline)); then
            say "$name (pid $pid) did not exit after SIGTERM; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            sleep 0.5
            break
        fi
        sleep 0.1
    done
    rm -f "${PIDFILE[$name]}"
    say "stopped $name (pid $pid)"
}

# --- commands ---------------------------------------------------------------------------------------

# Not root: re-run through passwordless sudo when there is one (a CI runner), keeping the variables
# this script reads.
need_root() {
    [[ $(id -u) -eq 0 ]] && return 0
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        exec sudo -n --preserve-env=QUBEMEM_PLUGIN_DIR,QUBEMEM_JOB_SUBMIT,QUBEMEM_LUA_SCRIPT,QUBEMEM_BENCH_BRACKET,QUBEMEM_SANDBOX_MEMORY,QUBEMEM_SANDBOX_DB_PORT,QUBEMEM_SANDBOX_DB_POOL,QUBEMEM_SANDBOX_TIMEOUT,QUBEMEM_SANDBOX_RELEASE,QUBEMEM_SANDBOX_PORT_OFFSET,QUBEMEM_SANDBOX_NODES,QUBEMEM_SANDBOX_NODE_CPUS,QUBEMEM_ROOTS_DIR,PATH \
            "$REPO/scripts/sandbox.sh" "${ORIGINAL_ARGS[@]}"
    fi
    die "run as root (slurmd and the daemon users need it); no passwordless sudo here"
}

with_lock() {
    install -d -m 0755 "$SB"
    exec 9>"$SB/.lock"
    flock -w 120 9 || die "another sandbox.sh holds $SB/.lock"
}

# The release's root (made once, see scripts/slurm-root.sh), its client commands in $BIN, and
# SLURM_VERSION (e.g. 24.11.5) from its slurmctld.
prepare_release() {
    if [[ -n $ROOT ]]; then
        ROOT=$("$REPO/scripts/slurm-root.sh" "$RELEASE") || die "no $RELEASE root"
        IN_ROOT=("$REPO/scripts/slurm-chroot.sh" "$ROOT")
        install -d -m 0755 "$BIN"
        local c
        for c in sbatch srun salloc scancel scontrol squeue sinfo sacct sacctmgr sstat sprio sshare sreport sdiag; do
            printf '#!/bin/sh\n# %s of SLURM %s, run inside its root (scripts/sandbox.sh writes this)\nexec %q %q %s "$@"\n' \
                "$c" "$RELEASE" "$REPO/scripts/slurm-chroot.sh" "$ROOT" "$c" >"$BIN/$c.new"
            chmod 0755 "$BIN/$c.new"
            replace_if_changed "$BIN/$c.new" "$BIN/$c"
        done
    fi
    SLURM_VERSION=$(in_root /usr/sbin/slurmctld -V | awk '{print $NF}')
    [[ $SLURM_VERSION == "$RELEASE".* ]] || die "slurmctld -V says '$SLURM_VERSION', not $RELEASE"
}

prepare_config() {
    # Ports (QUBEMEM_SANDBOX_PORT_OFFSET) are fixed while the sandbox runs: rewriting slurm.conf
    # under running daemons would leave the clients and the daemons on different ports.
    if { running slurmctld || running slurmdbd; } && [[ -s $CONF ]] &&
        ! grep -qx "SlurmctldPort=$CTLD_PORT" "$CONF"; then
        die "this sandbox runs with $(grep '^SlurmctldPort=' "$CONF"), not $CTLD_PORT: stop it first (same QUBEMEM_SANDBOX_PORT_OFFSET as when it started)"
    fi
    prepare_release
    choose_variant
    choose_memory_mode
    make_dirs
    write_slurmdbd_conf
    write_slurm_conf
}

commit_variant() {
    mv -f "$ETC/variant.new" "$ETC/variant"
    mv -f "$SB/variant.env.new" "$ETC/variant.env"
}

cmd_start() {
    need_root
    with_lock
    local t0=$SECONDS
    prepare_config
    local old="" new
    [[ -s $ETC/variant ]] && old=$(cat "$ETC/variant")
    new=$(cat "$ETC/variant.new")
    if [[ $old != "$new" ]] && { running slurmctld || any_slurmd_running; }; then
        say "configuration changed ($old -> $new): restarting slurmctld and slurmd"
        stop_slurmd
        stop_daemon slurmctld
        # Another number of nodes: their namespaces are made again.
        if $MULTI; then net_down; fi
    fi
    commit_variant
    local all_up=true d
    for d in "${DAEMONS[@]}"; do running "$d" || all_up=false; done
    start_munged
    start_mariadbd
    start_slurmdbd
    start_slurmctld
    start_slurmd
    wait_ready
    if $all_up; then
        say "already running ($new)"
    else
        say "up in $((SECONDS - t0)) s (SLURM $SLURM_VERSION, $new); $(in_root sinfo -h -N -o '%N %T %c CPUs %m MiB' | paste -sd ';')"
    fi
}

# restart and restart-ctld keep the running variant unless the environment names one.
default_keep() {
    if [[ -z ${QUBEMEM_JOB_SUBMIT:-}${QUBEMEM_PLUGIN_DIR:-}${QUBEMEM_LUA_SCRIPT:-} ]]; then
        export QUBEMEM_JOB_SUBMIT=keep
    fi
}

cmd_restart() {
    need_root
    with_lock
    default_keep
    prepare_config
    commit_variant
    stop_slurmd
    stop_daemon slurmctld
    start_munged
    start_mariadbd
    start_slurmdbd
    start_slurmctld
    start_slurmd
    wait_ready
    say "restarted slurmctld and slurmd ($(cat "$ETC/variant"))"
}

cmd_restart_ctld() {
    need_root
    with_lock
    default_keep
    prepare_config
    commit_variant
    stop_daemon slurmctld
    start_slurmctld
    # slurmd would re-register only at the controller's next ping (about 5 s); SIGHUP makes it
    # re-read slurm.conf and register now.
    local key
    for key in "${SLURMDS[@]}"; do
        if running "$key"; then kill -HUP "$(daemon_pid "$key")"; fi
    done
    start_slurmd
    wait_ready
    say "restarted slurmctld ($(cat "$ETC/variant"))"
}

cmd_stop() {
    need_root
    with_lock
    if running slurmctld; then
        local jobs
        jobs=$(in_root squeue -h -r -o '%i' 2>/dev/null | wc -l)
        if ((jobs > 0)); then
            say "cancelling $jobs queued or running jobs"
            in_root scancel --partition=debug 2>/dev/null || true
            local deadline=$((SECONDS + 15))
            while [[ -n $(in_root squeue -h -o '%A' 2>/dev/null) ]] && ((SECONDS < deadline)); do sleep 0.3; done
        fi
    fi
    stop_slurmd
    local i
    for ((i = ${#DAEMONS[@]} - 1; i >= 0; i--)); do
        [[ ${DAEMONS[i]} == slurmd || ${DAEMONS[i]} == slurmd-n* ]] || stop_daemon "${DAEMONS[i]}"
    done
    # The nodes' namespaces, veths and bridge, whatever state a start left them in.
    if $MULTI; then net_down; fi
}

cmd_status() {
    local d pid all=0
    for d in "${DAEMONS[@]}"; do
        pid=$(daemon_pid "$d")
        if [[ -n $pid ]]; then
            printf '%-10s running (pid %s)\n' "$d" "$pid"
        elif [[ -e ${PIDFILE[$d]} && ! -r ${PIDFILE[$d]} ]]; then
            printf '%-10s unknown (cannot read %s; run as root)\n' "$d" "${PIDFILE[$d]}"
            all=3
        else
            printf '%-10s stopped\n' "$d"
            all=3
        fi
    done
    if [[ -s $ETC/variant ]]; then printf '%-10s %s\n' variant "$(cat "$ETC/variant")"; fi
    if running slurmctld; then
        printf '%-10s %s\n' node "$(in_root sinfo -h -N -o '%N %T' 2>/dev/null | paste -sd ';' || echo '?')"
    fi
    printf '%-10s %s\n' conf "$CONF"
    return $all
}

cmd_env() {
    echo "export SLURM_CONF=$CONF"
    if [[ -n $ROOT ]]; then echo "export PATH=$BIN:\$PATH"; fi
}

case $COMMAND in
    start) cmd_start ;;
    stop) cmd_stop ;;
    restart) cmd_restart ;;
    restart-ctld) cmd_restart_ctld ;;
    status) cmd_status ;;
    env) cmd_env ;;
    -h|--help|help) sed -n '2,/^set -euo/p' "$0" | sed -n 's/^# \{0,1\}//p' ;;
    *) echo "usage: scripts/sandbox.sh start|stop|restart|restart-ctld|status|env [--release R] [--nodes N]" >&2; exit 64 ;;
esac
