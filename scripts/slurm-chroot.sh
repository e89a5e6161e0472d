#!/usr/bin/env bash
# Runs a command inside a SLURM release's root (scripts/slurm-root.sh) as the sandbox needs it:
# the host's /proc, /sys (cgroups), /dev, /tmp and this repository appear at their own paths
# inside, so every path in the sandbox's configuration (state under .sandbox-RELEASE/, the
# plugin under plugin/build/, job scripts, pytest's temporary folders) means the same inside and
# outside. The mounts are made in a private mount namespace of the command (and of the daemons it
# starts): they vanish with it, nothing is left mounted on the host, and removing a root never
# reaches the host's /dev or /tmp through a bind mount. The working folder is kept.
#
# Usage: scripts/slurm-chroot.sh ROOT COMMAND [ARGS...]
#        scripts/slurm-chroot.sh ROOT --user NAME COMMAND [ARGS...]   (NAME from the root's passwd)
set -euo pipefail
root=$1
shift
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
[[ -x $root/usr/bin/env ]] || { echo "slurm-chroot: $root is not a root" >&2; exit 1; }
# Inside, the root's own programs: never this repository's client wrappers (which call us).
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
exec unshare --mount --propagation private -- /bin/bash -c '
    set -e
    root=$1 repo=$2 cwd=$3
    shift 3
    for d in /proc /sys /dev /tmp "$repo"; do
        mkdir -p "$root$d"
        mount --rbind "$d" "$root$d"
    done
    user=()
    if [[ ${1:-} == --user ]]; then
        uid=$(awk -F: -v u="$2" "\$1 == u {print \$3 \":\" \$4}" "$root/etc/passwd")
        [[ -n $uid ]] || { echo "slurm-chroot: no user $2 in $root" >&2; exit 1; }
        user=(--userspec="$uid" --groups="${uid#*:}")
        shift 2
    fi
    exec chroot "${user[@]}" "$root" /bin/sh -c "cd \"\$0\" 2>/dev/null || cd /; exec \"\$@\"" "$cwd" "$@"
' slurm-chroot "$root" "$repo" "$PWD" "$@"
