#!/usr/bin/env bash
# Makes (once) and prints the path of a Debian root holding another SLURM release, for the sandbox
# (scripts/sandbox.sh --release) and the plugin build (make -C plugin SLURM_ROOT=...).
#
# Usage: scripts/slurm-root.sh RELEASE      RELEASE: 24.11 (Debian trixie) or 26.05 (Debian forky)
#
# The root is made with debootstrap from the mirror apt's own sources name, with SLURM's daemons,
# clients and headers, munge and python3 with numpy (test jobs run inside it; MariaDB is the
# host's, see scripts/sandbox.sh), under
# $QUBEMEM_ROOTS_DIR (default .cache/roots/ at the top of the repository, ignored by git) and
# reused by every later call: delete its folder to make it again. One to two minutes and 400 MB each.
# Needs root (debootstrap, chroot); installs debootstrap with apt when it is missing.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
ROOTS=${QUBEMEM_ROOTS_DIR:-$REPO/.cache/roots}
PACKAGES=slurmctld,slurmd,slurmdbd,slurm-wlm-mysql-plugin,slurm-client,slurm-wlm-basic-plugins,libslurm-dev,munge,python3,python3-numpy,lua5.1

die() { echo "slurm-root: error: $*" >&2; exit 1; }

release=${1:-}
case $release in
    24.11) suite=trixie ;;
    26.05) suite=forky ;;
    *) die "usage: scripts/slurm-root.sh 24.11|26.05 (the host's own SLURM needs no root)" ;;
esac
dir=$ROOTS/$release
# .ready is written last: a root without it was interrupted and is made again.
if [[ -e $dir/.ready ]]; then echo "$dir"; exit 0; fi
[[ $(id -u) -eq 0 ]] || die "run as root (debootstrap)"

# The Debian mirror apt already uses (deb822 sources first, then sources.list).
mirror() {
    local uri
    uri=$(sed -n 's/^URIs:[[:space:]]*\(http[^ ]*\/debian\/\{0,1\}\)[[:space:]]*$/\1/p' \
        /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)
    [[ -n $uri ]] || uri=$(awk '$1 == "deb" && $2 ~ /\/debian\/?$/ {print $2; exit}' \
        /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null)
    echo "${uri:-http://deb.debian.org/debian}"
}

if ! command -v debootstrap >/dev/null; then
    apt-get install -y debootstrap >/dev/null || die "could not install debootstrap"
fi
# bookworm's debootstrap has no script for forky: sid's works for any testing suite.
script=/usr/share/debootstrap/scripts/$suite
[[ -e $script ]] || script=/usr/share/debootstrap/scripts/sid

mkdir -p "$ROOTS"
exec 8>"$ROOTS/.$release.lock"
flock -w 900 8 || die "another slurm-root.sh is making $dir"
if [[ -e $dir/.ready ]]; then echo "$dir"; exit 0; fi
rm -rf "$dir"
log=$ROOTS/$release.debootstrap.log
echo "slurm-root: making $dir (Debian $suite from $(mirror)); log in $log" >&2
# Package scripts must not start daemons inside the root.
if ! debootstrap --variant=minbase --include="$PACKAGES" "$suite" "$dir" "$(mirror)" "$script" \
    >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    die "debootstrap $suite failed"
fi
cp /etc/hosts "$dir/etc/hosts"
chroot "$dir" slurmctld -V >/dev/null || die "slurmctld in $dir does not run"
touch "$dir/.ready"
echo "$dir"
