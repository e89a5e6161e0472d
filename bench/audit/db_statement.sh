#!/bin/bash
# db_statement.sh "SQL"
#   mariadbd's CPU for one statement on the sandbox's database, its rows read by the `mariadb`
#   client as fast as it can and counted (wc -c): what the server spends on a statement alone.
set -u
cd "$(dirname "$0")/../.."
pid=$(cat .sandbox/run/mysql/mariadbd.pid)
server() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
before=$(server)
bytes=$(mariadb --socket .sandbox/run/mysql/mysqld.sock -uroot slurm_acct_db --batch --quick -N -e "$1" | wc -c)
after=$(server)
echo "server $(echo "($after - $before) / $(getconf CLK_TCK)" | bc -l | cut -c1-6) s  bytes $bytes  :: ${1:0:110}"
