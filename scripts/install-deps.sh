#!/usr/bin/env bash
# Install what qubemem's build, tests and benchmarks need, and nothing that is already there.
#
#   scripts/install-deps.sh            install what is missing (apt as root, pip for python3)
#   scripts/install-deps.sh --check    only report what is missing; exit 1 if anything is
#
# Idempotent and quick when everything is present: one dpkg-query and one python3 call.
# apt-get update runs at most once, and only when a Debian package is missing.
set -euo pipefail

# Debian packages.
#   slurm-wlm-basic-plugins ships job_submit_lua.so (it links liblua5.1, pulled in as a dependency),
#   task_cgroup.so and the cgroup/v1 plugin; slurm-wlm-mysql-plugin is slurmdbd's storage back end.
#   libslurm-dev gives slurm/slurm.h for the plugin shim. time is GNU time (/usr/bin/time -v).
#   lua5.1 is the interpreter matching job_submit_lua.so: `luac5.1 -p` checks a job_submit.lua
#   before slurmctld loads it (a script that fails to load stops slurmctld).
#   libcfitsio-dev is CFITSIO, with which `qubemem predict --qube-config` reads a run's HEALPix mask.
#   libmariadb-dev is MariaDB Connector/C's header, through which `qubemem audit --source db` reads
#   slurmdbd's database (libmariadb3, the library itself, comes with mariadb-server's client).
APT_PACKAGES=(
    slurmctld slurmd slurm-client slurmdbd
    slurm-wlm-basic-plugins slurm-wlm-mysql-plugin libslurm-dev
    munge mariadb-server
    hyperfine valgrind time lua5.1 gcc
    debootstrap   # the roots of the other SLURM releases (scripts/slurm-root.sh)
    libcfitsio-dev   # FITS masks for predict --qube-config (loaded with dlopen)
    libmariadb-dev   # audit --source db through the client library (loaded with dlopen)
    lintian       # checks the Debian packages of `make deb` (tests/packages/)
    iproute2      # ip netns, veth, bridge: the nodes of the multi-node sandbox (scripts/sandbox-net.sh)
)

# pip requirements as "distribution==version" (exact) or "distribution" (any version).
#   qube-qml brings cosmocore, healpy, numba, numpy, scipy, psutil. mpi4py (qube-qml's `mpi`
#   extra) and mpich (the MPI library and its hydra mpiexec, as a wheel) run QUBE with MPI ranks
#   (tests/plugin/test_mpi_jobs.py in the sandbox, tests/profile under profile).
PIP_REQUIREMENTS=(
    pytest
    qube-qml==1.3.0
    mpi4py
    mpich
    psrecord
    reportseff
    prometheus_client
)

check_only=false
case "${1:-}" in
    --check) check_only=true ;;
    "") ;;
    -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install-deps.sh: unknown argument '$1' (expected --check)" >&2; exit 64 ;;
esac

PYTHON=${PYTHON:-python3}

# --- Debian packages -----------------------------------------------------------------------------
missing_apt=()
installed=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${APT_PACKAGES[@]}" 2>/dev/null || true)
for pkg in "${APT_PACKAGES[@]}"; do
    if ! grep -qx "$pkg installed" <<<"$installed"; then
        missing_apt+=("$pkg")
    fi
done

# --- pip packages ------------------------------------------------------------------------------------
# Prints the requirements that are not satisfied, one per line.
missing_pip_text=$("$PYTHON" - "${PIP_REQUIREMENTS[@]}" <<'EOF'
import sys
from importlib import metadata
for req in sys.argv[1:]:
    name, _, wanted = req.partition("==")
    try:
        have = metadata.version(name)
    except metadata.PackageNotFoundError:
        print(req)
        continue
    if wanted and have != wanted:
        print(req)
EOF
)
missing_pip=()
if [[ -n "$missing_pip_text" ]]; then
    mapfile -t missing_pip <<<"$missing_pip_text"
fi

if [[ ${#missing_apt[@]} -eq 0 && ${#missing_pip[@]} -eq 0 ]]; then
    echo "install-deps: everything present (${#APT_PACKAGES[@]} Debian packages, ${#PIP_REQUIREMENTS[@]} pip packages)"
    exit 0
fi

if $check_only; then
    [[ ${#missing_apt[@]} -gt 0 ]] && echo "install-deps: missing Debian packages: ${missing_apt[*]}"
    [[ ${#missing_pip[@]} -gt 0 ]] && echo "install-deps: missing pip packages: ${missing_pip[*]}"
    exit 1
fi

if [[ ${#missing_apt[@]} -gt 0 ]]; then
    echo "install-deps: installing Debian packages: ${missing_apt[*]}"
    sudo=()
    if [[ $(id -u) -ne 0 ]]; then
        if command -v sudo >/dev/null; then
            sudo=(sudo -n)
        else
            echo "install-deps: not root and no sudo; install these as root: ${missing_apt[*]}" >&2
            exit 1
        fi
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing_apt[@]}"
fi

if [[ ${#missing_pip[@]} -gt 0 ]]; then
    echo "install-deps: installing pip packages: ${missing_pip[*]}"
    "$PYTHON" -m pip install -q --disable-pip-version-check --root-user-action=ignore "${missing_pip[@]}"
    # Under pyenv, `python3 -m pip` skips pip's rehash hook: new console scripts need their shims.
    if command -v pyenv >/dev/null; then pyenv rehash || true; fi
fi

echo "install-deps: done"
