"""The Debian packages of `make deb`, checked by lintian and installed with apt into a fresh root.

The root is a copy of a bare `debootstrap --variant=minbase` bookworm (scripts/apt-root.sh, made
once under .cache/roots/apt-bookworm): `apt-get install ./qubemem_*.deb
./slurm-wlm-qubemem-plugin_*.deb` has to pull slurmctld, munge and the rest from the archive's
index. Then munged and slurmctld (JobSubmitPlugins=qubemem, no accounting, ports 6917/6918) run
inside it, a `qube:` job gets the memory `qubemem predict --request` gives, and `apt-get remove`
and `apt-get purge` must leave nothing of the packages behind but the conffile (after remove).
Each other release's plugin package in build/deb/ (make deb DEB_SLURM_RELEASES=...) is installed
the same way into a root of the suite that has its slurmctld (trixie, forky; ports 6927/6928 and
6937/6938) and must load there.

Every command inside the root runs in a private mount namespace (its /proc, /sys and /dev bound
in), so nothing stays mounted on the host; the daemons are stopped by pid at the end.
`qubemem audit` reads jobs back through sacct, which needs slurmdbd and a database:
test_package_cluster.py sets those up from the archive beside the packages, in a root of its own.

Needs root and network access to the Debian archive (the first time, to make the root). Packages
come from build/deb/ (`make deb`); $QUBEMEM_DEB_DIR overrides it.
"""

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DEB_DIR = Path(os.environ.get("QUBEMEM_DEB_DIR", REPO / "build" / "deb"))
COMMENT = "qube: path=pixel_direct n_pix=3008 lmax=32 fields=QU"
# slurmctld and slurmd ports: the host release's root, then 6927/6928 and 6937/6938 for the others
# (the sandboxes use 6817-6839), each plus $QUBEMEM_SANDBOX_PORT_OFFSET as the sandboxes' are: a
# second checkout's check can run beside this one (test_package_cluster.py uses 6947-6949).
PORT_OFFSET = int(os.environ.get("QUBEMEM_SANDBOX_PORT_OFFSET", "0"))
CTLD_PORT = 6917 + PORT_OFFSET
CONF = "/etc/slurm/qubemem.conf"
PLUGIN = "/usr/lib/x86_64-linux-gnu/slurm-wlm/job_submit_qubemem.so"
HOST_SUITE = "bookworm"
# The Debian suite whose slurmctld each other release's plugin package is built for
# (scripts/slurm-root.sh).
SUITES = {"24.11": "trixie", "26.05": "forky"}


def run(args, **kw):
    kw.setdefault("timeout", 600)
    return subprocess.run(args, text=True, capture_output=True, **kw)


def host_slurm_version() -> str:
    return run(["dpkg-query", "-W", "-f=${Version}", "slurmctld"], check=True).stdout


def debs() -> tuple[Path, Path]:
    """The CLI package and the plugin package for the host's slurmctld."""
    upstream = host_slurm_version().split("-")[0]
    cli = sorted(DEB_DIR.glob("qubemem_*_amd64.deb"))
    plugin = sorted(DEB_DIR.glob(f"slurm-wlm-qubemem-plugin_*+slurm{upstream}-*_amd64.deb"))
    if not cli or not plugin:
        pytest.fail(f"no qubemem and plugin packages for SLURM {upstream} in {DEB_DIR}: run `make deb`")
    return cli[-1], plugin[-1]


class Root:
    """A throw-away copy of the cached bare root, and the commands run in it."""

    def __init__(self, path: Path):
        self.path = path
        self.pids: list[int] = []

    def sh(self, script: str, check: bool = True, timeout: int = 600):
        """Runs `sh -c script` chrooted into the root, in a private mount namespace."""
        inner = (
            'set -e; r=$1; shift; for d in /proc /sys /dev; do mount --rbind "$d" "$r$d"; done; '
            'exec chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root '
            'DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 /bin/sh -c "$@"')
        res = run(["unshare", "--mount", "--propagation", "private", "--", "/bin/bash", "-c",
                   inner, "root-sh", str(self.path), script], timeout=timeout)
        if check and res.returncode != 0:
            pytest.fail(f"in the root: {script}\nexit {res.returncode}\n{res.stdout}\n{res.stderr}")
        return res

    def read(self, path: str) -> str:
        return (self.path / path.lstrip("/")).read_text()

    def exists(self, path: str) -> bool:
        return os.path.lexists(self.path / path.lstrip("/"))


def stop_pids(pids: list[int]) -> None:
    """SIGTERM to each of PIDS, newest first, each waited for (10 s, then SIGKILL); empties PIDS."""
    while pids:
        pid = pids.pop()
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
        for _ in range(100):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def fresh_root(suite: str, tmp: Path):
    """A copy of the cached bare root of SUITE; its daemons are stopped by pid at the end."""
    if os.geteuid() != 0:
        pytest.fail("the package install test needs root (chroot, mounts)")
    cached = run([str(REPO / "scripts" / "apt-root.sh"), suite], timeout=1800)
    if cached.returncode != 0:
        pytest.fail(f"scripts/apt-root.sh {suite} failed:\n{cached.stderr}")
    path = tmp / "root"
    subprocess.run(["cp", "-a", cached.stdout.strip(), str(path)], check=True)
    r = Root(path)
    try:
        yield r
    finally:
        stop_pids(r.pids)
        # Nothing of the root may stay mounted (the namespaces went with their processes).
        mounts = Path("/proc/self/mountinfo").read_text()
        assert str(path) not in mounts, "a mount inside the test root was left behind"
        shutil.rmtree(path)


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    with fresh_root(HOST_SUITE, tmp_path_factory.mktemp("apt-root")) as r:
        yield r


def test_lintian_reports_no_error_or_warning():
    debs()
    every = sorted(DEB_DIR.glob("*.deb"))   # the other releases' plugin packages too
    res = run(["lintian", "--fail-on", "error,warning", "--tag-display-limit", "0", *map(str, every)])
    assert res.returncode == 0, res.stdout + res.stderr
    assert not re.search(r"^[EW]: ", res.stdout, re.M), res.stdout


def test_every_plugin_package_pins_the_slurmctld_of_its_release():
    plugins = sorted(DEB_DIR.glob("slurm-wlm-qubemem-plugin_*.deb"))
    assert plugins
    for deb in plugins:
        fields = run(["dpkg-deb", "-f", str(deb), "Version", "Depends"], check=True).stdout
        release = re.search(r"^Version: .*\+slurm(\d+\.\d+\.\d+)-", fields, re.M)
        assert release, fields
        assert re.search(rf"slurmctld \(= {re.escape(release.group(1))}-[^)]+\)", fields), fields


def test_plugin_package_pins_the_slurmctld_it_was_built_for():
    _, plugin = debs()
    depends = run(["dpkg-deb", "-f", str(plugin), "Depends"], check=True).stdout
    assert f"slurmctld (= {host_slurm_version()})" in depends
    conffiles = run(["dpkg-deb", "-I", str(plugin), "conffiles"], check=True).stdout
    assert conffiles.split() == [CONF]


def deb_file(deb: Path, path: str) -> str:
    """The text of PATH (./usr/...) inside DEB."""
    tar = subprocess.run(["dpkg-deb", "--fsys-tarfile", str(deb)], check=True, capture_output=True)
    return subprocess.run(["tar", "-xO", path], input=tar.stdout, check=True,
                          capture_output=True).stdout.decode()


def deb_paths(deb: Path) -> set[str]:
    """The files and links (not folders) DEB ships."""
    out = run(["dpkg-deb", "-c", str(deb)], check=True).stdout
    return {line.split()[5].removeprefix(".") for line in out.splitlines() if not line.startswith("d")}


def dep5(text: str) -> list[dict[str, str]]:
    """The paragraphs of a machine-readable debian/copyright, fields by name (continuations kept)."""
    paragraphs = []
    for block in re.split(r"\n\s*\n", text.strip()):
        fields: dict[str, str] = {}
        name = None
        for line in block.splitlines():
            if line[:1] in (" ", "\t"):
                assert name, f"a continuation line before any field: {line!r}"
                fields[name] += "\n" + line
            else:
                name, _, value = line.partition(":")
                assert name and _ and name not in fields, f"not a field, or a repeated one: {line!r}"
                fields[name] = value.strip()
        paragraphs.append(fields)
    return paragraphs


def test_copyright_is_machine_readable_and_names_every_licence():
    """Each package's copyright file: DEP-5, qubemem GPL-2+, and a licence paragraph with its text
    (or Debian's common-licenses file) for every licence a Files paragraph names; the CLI's names
    Yams and libyaml (MIT, compiled into it)."""
    for deb in sorted(DEB_DIR.glob("*.deb")):
        pkg = deb.name.split("_")[0]
        paragraphs = dep5(deb_file(deb, f"./usr/share/doc/{pkg}/copyright"))
        header, rest = paragraphs[0], paragraphs[1:]
        assert header["Format"] == "https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/"
        assert header["Upstream-Name"] == "qubemem"
        files = [p for p in rest if "Files" in p]
        assert files[0]["Files"] == "*" and files[0]["License"] == "GPL-2+", files[0]
        texts = {p["License"].split("\n")[0]: p["License"] for p in rest if "Files" not in p}
        for p in files:
            assert p.get("Copyright"), p
            name = p["License"].split("\n")[0]
            assert name in texts, f"{deb.name}: no licence paragraph for {name}"
        assert "/usr/share/common-licenses/GPL-2" in texts["GPL-2+"]
        assert "any later" in texts["GPL-2+"]
        for name, body in texts.items():
            assert len(body.splitlines()) > 5, f"{deb.name}: licence {name} has no text"
        if pkg == "qubemem":
            yams = [p for p in files if "Yams" in p["Files"]]
            assert {p["License"] for p in yams} == {"Expat"}, yams
            assert any("Simonov" in p["Copyright"] for p in yams), yams   # libyaml
            assert any("JP Simard" in p["Copyright"] for p in yams), yams   # Yams
            assert "Permission is hereby granted" in texts["Expat"]


def test_the_config_manual_is_in_the_cli_package_and_no_path_is_in_two_packages():
    """qubemem.conf(5) ships with qubemem (the CLI reads qubemem.conf too); each plugin package
    depends on that very qubemem, and dpkg would refuse a path shipped by both."""
    cli, _ = debs()
    cli_paths = deb_paths(cli)
    assert "/usr/share/man/man5/qubemem.conf.5.gz" in cli_paths
    cli_version = run(["dpkg-deb", "-f", str(cli), "Version"], check=True).stdout.strip()
    for plugin in sorted(DEB_DIR.glob("slurm-wlm-qubemem-plugin_*.deb")):
        both = cli_paths & deb_paths(plugin)
        assert both == set(), f"{plugin.name} and {cli.name} both ship {sorted(both)}"
        depends = run(["dpkg-deb", "-f", str(plugin), "Depends"], check=True).stdout
        assert f"qubemem (= {cli_version})" in depends, depends


def test_apt_refuses_the_plugin_for_another_slurmctld(root, tmp_path):
    """A copy of the plugin package that pins another slurmctld version cannot be installed."""
    _, plugin = debs()
    tree = tmp_path / "tree"
    subprocess.run(["dpkg-deb", "-R", str(plugin), str(tree)], check=True)
    control = tree / "DEBIAN" / "control"
    control.write_text(re.sub(r"slurmctld \(= [^)]*\)", "slurmctld (= 99.99.9-1)", control.read_text()))
    (root.path / "root" / "bad").mkdir(parents=True, exist_ok=True)
    subprocess.run(["dpkg-deb", "--root-owner-group", "-b", str(tree), str(root.path / "root/bad/p.deb")],
                   check=True, capture_output=True)
    res = root.sh("apt-get install -y -q --no-download /root/bad/p.deb", check=False)
    assert res.returncode != 0
    assert "slurmctld (= 99.99.9-1)" in res.stdout + res.stderr
    assert not root.exists(PLUGIN)
    shutil.rmtree(root.path / "root" / "bad")


def test_apt_installs_both_packages_and_pulls_slurm(root):
    cli, plugin = debs()
    dest = root.path / "root" / "debs"
    dest.mkdir(parents=True)
    for deb in (cli, plugin):
        shutil.copy(deb, dest)
    assert not root.exists("/usr/sbin/slurmctld")
    # The CLI alone (a login node): qubemem.conf(5) with it, and nothing of SLURM's daemons.
    root.sh(f"cd /root/debs && apt-get install -y -q ./{cli.name}")
    assert root.exists("/usr/share/man/man5/qubemem.conf.5.gz")
    assert not root.exists("/usr/sbin/slurmctld") and not root.exists(PLUGIN)
    root.sh(f"cd /root/debs && apt-get install -y -q ./{cli.name} ./{plugin.name}")
    got = root.sh("dpkg-query -W -f='${Package} ${Version} ${db:Status-Status}\\n' "
                  "slurmctld qubemem slurm-wlm-qubemem-plugin munge").stdout
    assert f"slurmctld {host_slurm_version()} installed" in got
    assert "qubemem " in got and "slurm-wlm-qubemem-plugin " in got
    assert got.count(" installed") == 4, got
    for path in ("/usr/bin/qubemem", PLUGIN, CONF, "/usr/share/man/man1/qubemem.1.gz",
                 "/usr/share/man/man5/qubemem.conf.5.gz", "/usr/share/man/man8/job_submit_qubemem.8.gz",
                 "/usr/share/bash-completion/completions/qubemem",
                 "/usr/share/zsh/vendor-completions/_qubemem",
                 "/usr/share/fish/vendor_completions.d/qubemem.fish",
                 "/usr/share/doc/qubemem/copyright", "/usr/share/doc/qubemem/changelog.Debian.gz",
                 "/usr/share/doc/qubemem/examples/qubemem.conf"):
        assert root.exists(path), path


def test_qubemem_runs_inside_the_root(root):
    out = root.sh("qubemem --version && qubemem predict --from-comment "
                  f"'{COMMENT}' --request").stdout
    assert re.search(r"Request: \d+ MiB per node", out), out
    # The completion file bash-completion would load registers a function for qubemem.
    comp = root.sh("bash -c '. /usr/share/bash-completion/completions/qubemem && complete -p qubemem'").stdout
    assert re.search(r"complete .*-F _qubemem qubemem", comp), comp


def test_plugin_loads_in_slurmctld_and_sets_the_memory(root):
    check_plugin_in_slurmctld(root)


def check_plugin_in_slurmctld(root: Root, ctld_port: int = CTLD_PORT) -> None:
    """Starts munged and slurmctld (JobSubmitPlugins=qubemem) in ROOT; a qube: job gets the
    memory qubemem predict --request gives in that root."""
    host = socket.gethostname().split(".")[0]
    conf = f"""ClusterName=pkgtest
SlurmctldHost={host}(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={ctld_port + 1}
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=/var/lib/slurm/slurmctld
SlurmdSpoolDir=/var/lib/slurm/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmctldDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
JobSubmitPlugins=qubemem
ReturnToService=2
NodeName={host} NodeAddr=127.0.0.1 CPUs=1 RealMemory=200000 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
"""
    (root.path / "etc/slurm/slurm.conf").write_text(conf)
    root.sh("mkdir -p /var/lib/slurm/slurmctld /var/log/slurm /run/munge && chown munge:munge /run/munge && "
            "{ [ -s /etc/munge/munge.key ] || mungekey --create --keyfile=/etc/munge/munge.key; } && "
            "chown munge:munge /etc/munge/munge.key && chmod 0400 /etc/munge/munge.key")
    root.sh("runuser -u munge -- /usr/sbin/munged --pid-file=/run/munge/munged.pid")
    root.pids.append(int(root.read("/run/munge/munged.pid").split()[0]))
    root.sh("/usr/sbin/slurmctld")
    for _ in range(150):
        if root.exists("/run/slurmctld.pid") and root.sh("scontrol ping", check=False).returncode == 0:
            break
        time.sleep(0.2)
    if root.exists("/run/slurmctld.pid"):
        root.pids.append(int(root.read("/run/slurmctld.pid").split()[0]))
    log = root.read("/var/log/slurm/slurmctld.log") if root.exists("/var/log/slurm/slurmctld.log") else ""
    assert root.sh("scontrol ping", check=False).returncode == 0, log
    assert "qubemem" in log and "init" in log, log

    sub = root.sh(f"sbatch --hold --comment '{COMMENT}' --wrap true")
    jobid = re.search(r"Submitted batch job (\d+)", sub.stdout).group(1)
    assert "qubemem: memory set to" in sub.stderr, sub.stderr
    job = root.sh(f"scontrol show job {jobid}").stdout
    got = re.search(r"MinMemoryNode=(\d+)M\b", job)
    assert got, job
    pred = root.sh(f"qubemem predict --from-comment '{COMMENT}' --request").stdout
    want = re.search(r"Request: (\d+) MiB per node", pred)
    assert want, pred
    assert int(got.group(1)) == int(want.group(1))
    assert "qubemem:v1 action=set" in job
    root.sh(f"scancel {jobid}")


def other_release_plugins() -> list[Path]:
    return sorted(p for p in DEB_DIR.glob("slurm-wlm-qubemem-plugin_*.deb")
                  if re.search(r"\+slurm(\d+\.\d+)\.", p.name).group(1) in SUITES)


@pytest.mark.parametrize("plugin", other_release_plugins(), ids=lambda p: p.name)
def test_other_release_installs_with_its_slurmctld_and_loads(plugin, tmp_path):
    """Each other release's plugin package (make deb DEB_SLURM_RELEASES=...) in a fresh root of
    the Debian suite that has its slurmctld: apt pulls exactly that slurmctld, which loads it."""
    cli, _ = debs()
    release = re.search(r"\+slurm(\d+\.\d+)\.", plugin.name).group(1)
    with fresh_root(SUITES[release], tmp_path) as r:
        dest = r.path / "root" / "debs"
        dest.mkdir(parents=True)
        for deb in (cli, plugin):
            shutil.copy(deb, dest)
        r.sh(f"cd /root/debs && apt-get install -y -q ./{cli.name} ./{plugin.name}")
        pinned = re.search(r"slurmctld \(= ([^)]+)\)",
                           run(["dpkg-deb", "-f", str(plugin), "Depends"], check=True).stdout).group(1)
        assert r.sh("dpkg-query -W -f='${Version}' slurmctld").stdout == pinned
        check_plugin_in_slurmctld(r, CTLD_PORT + 10 * (1 + sorted(SUITES).index(release)))


def test_upgrade_keeps_the_admins_conffile(root, tmp_path):
    """The same plugin package at a later Debian revision replaces the files, not the edits."""
    _, plugin = debs()
    tree = tmp_path / "tree"
    subprocess.run(["dpkg-deb", "-R", str(plugin), str(tree)], check=True)
    control = tree / "DEBIAN" / "control"
    text = control.read_text()
    version = re.search(r"^Version: (\S+)$", text, re.M).group(1)
    newer = version + ".1"
    control.write_text(text.replace(f"Version: {version}", f"Version: {newer}"))
    subprocess.run(["dpkg-deb", "--root-owner-group", "-b", str(tree), str(root.path / "root/p2.deb")],
                   check=True, capture_output=True)
    conf = root.path / CONF.lstrip("/")
    conf.write_text(conf.read_text() + "\n# edited by the admin\n")
    root.sh("apt-get install -y -q /root/p2.deb")
    (root.path / "root/p2.deb").unlink()
    got = root.sh("dpkg-query -W -f='${Version}' slurm-wlm-qubemem-plugin").stdout
    assert got == newer
    assert "# edited by the admin" in root.read(CONF)
    assert not root.exists(CONF + ".dpkg-dist") and not root.exists(CONF + ".dpkg-new")


def test_remove_keeps_the_conffile_and_purge_leaves_nothing(root):
    owned = {}
    for pkg in ("qubemem", "slurm-wlm-qubemem-plugin"):
        paths = root.sh(f"dpkg -L {pkg}").stdout.split()
        assert paths, pkg
        owned[pkg] = paths
    # The admin's edit (test_upgrade_keeps_the_admins_conffile) survives remove.
    root.sh("apt-get remove -y -q qubemem slurm-wlm-qubemem-plugin")
    assert root.exists(CONF) and "# edited by the admin" in root.read(CONF)
    assert "rc slurm-wlm-qubemem-plugin" in " ".join(
        root.sh("dpkg -l slurm-wlm-qubemem-plugin", check=False).stdout.split())
    root.sh("apt-get purge -y -q qubemem slurm-wlm-qubemem-plugin")
    assert not root.exists(CONF)
    left = []
    for pkg, paths in owned.items():
        for p in paths:
            full = root.path / p.lstrip("/")
            # Folders other packages also use (/usr, /etc/slurm, /usr/share/man/...) stay.
            if os.path.lexists(full) and not full.is_dir():
                left.append(p)
            elif full.is_dir() and p.startswith(("/usr/share/doc/qubemem", "/usr/share/doc/slurm-wlm-qubemem")):
                left.append(p)
    assert left == [], left
    # Nor anything else named after qubemem, anywhere in the root (dpkg's backups, the lintian
    # overrides, completions, man pages, doc folders), once the .deb files we copied in are gone.
    shutil.rmtree(root.path / "root" / "debs")
    named = [p for p in root.sh("find / -xdev -name '*qubemem*'").stdout.split()]
    assert named == [], named
    listed = root.sh("dpkg -l qubemem slurm-wlm-qubemem-plugin", check=False).stdout
    assert not re.search(r"^(ii|rc) ", listed, re.M), listed
    # SLURM itself, pulled in as a dependency, is still there and untouched.
    assert root.exists("/usr/sbin/slurmctld")
