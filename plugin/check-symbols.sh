#!/bin/sh
# Fails when a shared object references a symbol that slurmctld's process does not provide:
# slurmctld itself, libslurmfull, libc, libm, libstdc++ and libgcc_s. A plugin with such a
# reference loads (RTLD_LAZY) and then kills slurmctld the first time the code path runs.
# Also fails when it needs a shared library other than those.
# Usage: check-symbols.sh PLUGIN.so
# Environment: SLURMCTLD and SLURM_LIBDIR (default: the installed SLURM), SYSROOT (a root holding
# another release, whose libc and friends are then the providers too).
set -eu
so=$1
sysroot=${SYSROOT:-}
slurmctld=${SLURMCTLD:-/usr/sbin/slurmctld}
if [ -n "$sysroot" ]; then
    libdir=$sysroot/lib/x86_64-linux-gnu
else
    libdir=$(dirname "$(gcc -print-file-name=libc.so.6)")
    [ -f "$libdir/libc.so.6" ] || libdir=/lib/x86_64-linux-gnu
fi
slurmlib=${SLURM_LIBDIR:-/usr/lib/x86_64-linux-gnu/slurm-wlm}
providers="$slurmctld $slurmlib/libslurmfull.so"
for lib in libc.so.6 libm.so.6 libstdc++.so.6 libgcc_s.so.1 ld-linux-x86-64.so.2; do
    for dir in "$libdir" "$sysroot/lib/x86_64-linux-gnu" "$sysroot/usr/lib/x86_64-linux-gnu"; do
        if [ -f "$dir/$lib" ]; then providers="$providers $dir/$lib"; break; fi
    done
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for p in $providers; do
    [ -f "$p" ] || { echo "check-symbols: missing provider $p" >&2; exit 1; }
    nm -D --defined-only "$p" | awk '{print $NF}' | sed 's/@.*//'
done | sort -u >"$tmp/provided"
# Undefined, non-weak references.
nm -D --undefined-only "$so" | awk '$1 == "U" {print $2}' | sed 's/@.*//' | sort -u >"$tmp/needed"
comm -23 "$tmp/needed" "$tmp/provided" >"$tmp/missing"
status=0
if [ -s "$tmp/missing" ]; then
    echo "check-symbols: $so references symbols slurmctld does not provide:" >&2
    sed 's/^/  /' "$tmp/missing" >&2
    status=1
fi
readelf -d "$so" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' >"$tmp/libs"
while read -r lib; do
    case $lib in
    libc.so.6 | libm.so.6 | libstdc++.so.6 | libgcc_s.so.1 | ld-linux-x86-64.so.2) ;;
    *) echo "check-symbols: $so needs $lib, which slurmctld does not load" >&2; status=1 ;;
    esac
done <"$tmp/libs"
exported=$(nm -D --defined-only "$so" | awk '$2 ~ /^[A-Z]$/ {print $3}' | sort | tr '\n' ' ')
if [ "$exported" != "fini init job_modify job_submit plugin_name plugin_type plugin_version " ]; then
    echo "check-symbols: $so exports more than the plugin contract: $exported" >&2
    status=1
fi
[ $status -eq 0 ] && echo "check-symbols: $so: $(wc -l <"$tmp/needed") references, all provided by $slurmctld"
exit $status
