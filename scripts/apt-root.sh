#!/usr/bin/env bash
# Makes (once) and prints the path of a bare Debian root for the package install test
# (tests/packages/): `debootstrap --variant=minbase`, nothing of SLURM in it, apt's lists fetched,
# and the packages the tests install with apt downloaded into apt's cache (DOWNLOAD: what the
# plugin package pulls in, and what the accounting test adds: slurmd, slurmdbd and MariaDB), so
# that each test run (on a copy of this root) resolves them from the archive's index without
# waiting for the network. Under $QUBEMEM_ROOTS_DIR (default .cache/roots/, ignored by git) as
# apt-SUITE/; delete it to make it again. A root made for a shorter DOWNLOAD list gets the missing
# packages downloaded into it. Needs root.
#
# Usage: scripts/apt-root.sh [SUITE]      SUITE: bookworm (default: the host's), trixie, forky
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
ROOTS=${QUBEMEM_ROOTS_DIR:-$REPO/.cache/roots}
suite=${1:-$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")}
dir=$ROOTS/apt-$suite
# .ready holds this list: a root whose .ready differs gets the packages downloaded again. The
# accounting test (slurmd, slurmdbd, MariaDB) runs in a root of the host's suite only.
DOWNLOAD="slurmctld slurm-client munge"
if [[ $suite == "$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")" ]]; then
    DOWNLOAD+=" slurmd slurmdbd slurm-wlm-mysql-plugin mariadb-server"
fi
die() { echo "apt-root: error: $*" >&2; exit 1; }
if [[ -e $dir/.ready && $(cat "$dir/.ready") == "$DOWNLOAD" ]]; then echo "$dir"; exit 0; fi
[[ $(id -u) -eq 0 ]] || die "run as root (debootstrap)"

mirror() {   # the Debian mirror apt already uses, as scripts/slurm-root.sh finds it
    local uri
    uri=$(sed -n 's/^URIs:[[:space:]]*\(http[^ ]*\/debian\/\{0,1\}\)[[:space:]]*$/\1/p' \
        /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)
    [[ -n $uri ]] || uri=$(awk '$1 == "deb" && $2 ~ /\/debian\/?$/ {print $2; exit}' \
        /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null)
    echo "${uri:-http://deb.debian.org/debian}"
}
command -v debootstrap >/dev/null || apt-get install -y debootstrap >/dev/null || die "no debootstrap"

mkdir -p "$ROOTS"
exec 8>"$ROOTS/.apt-$suite.lock"
flock -w 900 8 || die "another apt-root.sh is making $dir"
run() { unshare --mount --propagation private -- chroot "$dir" env DEBIAN_FRONTEND=noninteractive "$@"; }
log=$ROOTS/apt-$suite.debootstrap.log
download() {
    # shellcheck disable=SC2086
    run apt-get install -y -q --download-only $DOWNLOAD >>"$log" 2>&1 ||
        { tail -n 20 "$log" >&2; die "downloading SLURM and MariaDB into $dir failed"; }
    echo "$DOWNLOAD" >"$dir/.ready"
    echo "$dir"
}
if [[ -e $dir/.ready ]]; then
    [[ $(cat "$dir/.ready") == "$DOWNLOAD" ]] && { echo "$dir"; exit 0; }
    echo "apt-root: downloading $DOWNLOAD into $dir" >&2
    download
    exit 0
fi
rm -rf "$dir"
m=$(mirror)
echo "apt-root: making $dir (Debian $suite from $m); log in $log" >&2
# bookworm's debootstrap has no script for forky: sid's works for any testing suite.
script=/usr/share/debootstrap/scripts/$suite
[[ -e $script ]] || script=/usr/share/debootstrap/scripts/sid
debootstrap --variant=minbase "$suite" "$dir" "$m" "$script" >"$log" 2>&1 || { tail -n 20 "$log" >&2; die "debootstrap failed"; }
# Updates and security too for a stable suite, as on the host: the plugin package pins the host's
# slurmctld version. Testing (forky) gets main alone, as scripts/slurm-root.sh's roots do (its
# security Release file can be expired on a dated mirror).
{
    echo "deb $m $suite main"
    if [[ $suite != forky && $suite != sid ]]; then
        echo "deb $m $suite-updates main"
        echo "deb ${m%/debian*}/debian-security $suite-security main"
    fi
} >"$dir/etc/apt/sources.list"
# A testing suite's Release file is valid for a week only, and a dated mirror (a snapshot) serves
# an expired one: apt then refuses it. Signatures are still checked; only the expiry is not.
if [[ $suite == forky || $suite == sid ]]; then
    echo 'Acquire::Check-Valid-Until "false";' >"$dir/etc/apt/apt.conf.d/99qubemem-test-root"
fi
cp /etc/hosts "$dir/etc/hosts"
cp /etc/resolv.conf "$dir/etc/resolv.conf" 2>/dev/null || true
# No daemon may start inside the root while packages are installed (policy-rc.d), in the copy too.
printf '#!/bin/sh\nexit 101\n' >"$dir/usr/sbin/policy-rc.d"
chmod 0755 "$dir/usr/sbin/policy-rc.d"
run apt-get update -q >>"$log" 2>&1 || { tail -n 20 "$log" >&2; die "apt-get update in $dir failed"; }
download
