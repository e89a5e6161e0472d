#!/bin/bash
# db_run.sh QUBEMEM CLUSTER OUT [audit options...]
#   One `qubemem audit --source db --cluster CLUSTER --start 2026-01-01 --suggest-config` against
#   the sandbox's database (scripts/sandbox.sh start), its output to OUT: prints wall time, user
#   and system CPU and maximum RSS of qubemem and its children (GNU time), and mariadbd's CPU over
#   the run (from /proc/PID/stat). Tables of a generated cluster: bench/audit/fill_db.py.
set -u
cd "$(dirname "$0")/../.."
export SLURM_CONF=$PWD/.sandbox/etc/slurm.conf
qubemem=$1 cluster=$2 out=$3
shift 3
pid=$(cat .sandbox/run/mysql/mariadbd.pid)
server() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
times=$(mktemp)
before=$(server)
/usr/bin/time -f "wall %e s  user %U s  sys %S s  rss %M KiB" -o "$times" \
    "$qubemem" audit --source db --cluster "$cluster" --start 2026-01-01 --suggest-config "$@" > "$out"
rc=$?
after=$(server)
echo "rc=$rc $(cat "$times")  server $(echo "($after - $before) / $(getconf CLK_TCK)" | bc -l | cut -c1-6) s  :: $qubemem $cluster $*"
rm -f "$times"
