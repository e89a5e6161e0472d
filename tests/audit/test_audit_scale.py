"""The audit at a site's scale (issue 16): the same report, byte for byte, as before the change.

The expected digests below are of the output of the qubemem binary built from main at 9cf4fa2,
before the audit kept jobs compactly and read its job table once per quantile list instead of
keeping every group's values (`bench/audit/gen_dump.py` and `gen_varied.py` are deterministic, so
the dumps are made again here). `--suggest-config` now takes the summary-only path (`SummaryJobs`),
the other outputs the path that keeps whole jobs: both are checked against the old binary, and the
summary path's groups and quantiles through `--prometheus`, which it writes too.
"""

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from audit_helpers import QUBEMEM, REPO, require_binary  # noqa: E402

# (dump, options) -> sha256 of stdout + stderr of `qubemem audit --input DUMP.sacct OPTIONS`.
GOLDEN = {
    ("d1", "--json"): "96a8dc19610739c8079b527919cff079e019ca94b9a0aae68da79cb5778b19bd",
    ("d1", ""): "9d5d4fea45ee48b62eed3abd4174060a587d64ca5a4c6628be41db7f38664d07",
    ("d1", "--all --json"): "96a8dc19610739c8079b527919cff079e019ca94b9a0aae68da79cb5778b19bd",
    ("d1", "--suggest-config"): "f9d6674d239851f97096313c4f507d531979124ed9f7d97ad6d004becb3b5d99",
    ("d1", "--csv"): "6d9dd5423a09a08bce3c20be8b9bd2d0547d676ef80e8b2550dfe73f703d9cd7",
    ("d1", "--all"): "9d5d4fea45ee48b62eed3abd4174060a587d64ca5a4c6628be41db7f38664d07",
    ("d1", "--all --target 0.95 --slack 1.2 --json"): "be20a963fd13728959a1d0c44d15e1619a4051e79fe97770cc0b2f247422a5a2",
    ("d1", "--suggest-config --target 0.9"): "8dc17f32c649713cd6641c5e49d01b25120f3aa50361f889982d2fcd31d0e15f",
    ("v", "--json"): "a19a90df3e7a4e991eae167f25968321feaa7fec13876eada637fea9e1f106d5",
    ("v", ""): "f678ad439a17d2aba1cfe1c248b49c69dd271f06459ed1c344b11757b4f7c1bf",
    ("v", "--all --json"): "0a3ccf73b2189bae0f0d6f422b9a07711a8a050c943a8522c922ad20aea54050",
    ("v", "--suggest-config"): "943e9ce5add201b49390ecb2ca7543854d5ea49357e25fb96fc454d3ddd50c21",
    ("v", "--csv"): "36fdb349b91080da2bbeb56541ddb18477d4ab52e71a422c7719578a01dbe6ab",
    ("v", "--all"): "c692c293be2850738944fb3b0fdc56fe0534c5ad9feb46b220b9ffb05394b0cb",
    ("v", "--all --target 0.95 --slack 1.2 --json"): "12357789d6bdf52600647d0a6130338dd077f7bb1dfea8c0997665ba30f01748",
    ("v", "--suggest-config --target 0.9"): "a4f65699d7a883d4d50d182f869cfe9feb55908ef923a8ccb13414ba09f41776",
    ("vs", "--json"): "25d6ed1ca30e06bec04ae4cd9c231e55c4dc85bc06a46beea3dd543cbcc7efd6",
    ("vs", ""): "c0fc12a8142003ecaaa64d87fb0473d0a84b6b2221551f0def080b9627449cbb",
    ("vs", "--all --json"): "371d564d5bdce754e2e14b079acf8ec5947afd73ceeebc4c06b31e4c1ccecf21",
    ("vs", "--suggest-config"): "943e9ce5add201b49390ecb2ca7543854d5ea49357e25fb96fc454d3ddd50c21",
    ("vs", "--csv"): "36fdb349b91080da2bbeb56541ddb18477d4ab52e71a422c7719578a01dbe6ab",
    ("vs", "--all"): "38e0dfc05d4120f0c2648485feda8f14e040900651bd9308b49e84c4dc176183",
    ("vs", "--all --target 0.95 --slack 1.2 --json"): "dd8b61483a7fbdcdeb858d4552ceea1995d037c3ec5b9af03923dc6d6313dc29",
    ("vs", "--suggest-config --target 0.9"): "a4f65699d7a883d4d50d182f869cfe9feb55908ef923a8ccb13414ba09f41776",
}

# (dump, options) -> sha256 of the --prometheus file without its timestamp line.
GOLDEN_PROMETHEUS = {
    ("d1", "--suggest-config"): "41eca7172c4c397cb830f99f7430b85ff5bfaacfc5a8d79c7780faa3b997ca9a",
    ("d1", "--suggest-config --all --target 0.95"): "938a970d27c256039fb82a7c0da3295fef68a5a8b00e8b81a1786af75d6df5f7",
    ("v", "--suggest-config"): "2e6001c71f87dc92a443a5ed54830205dfc2a2b468e51221baa45f034689a53c",
    ("v", "--suggest-config --all --target 0.95"): "c1adf57cb711dd22287bbe9379392ff7233afb10452624a0b6c46397f59d65b1",
    ("vs", "--suggest-config"): "2e6001c71f87dc92a443a5ed54830205dfc2a2b468e51221baa45f034689a53c",
    ("vs", "--suggest-config --all --target 0.95"): "c1adf57cb711dd22287bbe9379392ff7233afb10452624a0b6c46397f59d65b1",
}


@pytest.fixture(scope="module")
def dumps(tmp_path_factory):
    d = tmp_path_factory.mktemp("scale")
    bench = REPO / "bench" / "audit"
    subprocess.run([sys.executable, bench / "gen_dump.py", "30000", "2", d / "d1.sacct"], check=True,
                   capture_output=True)
    subprocess.run([sys.executable, bench / "gen_varied.py", "3000", d / "v.sacct"], check=True, capture_output=True)
    subprocess.run([sys.executable, bench / "gen_varied.py", "3000", d / "vs.sacct", "--shuffle"], check=True,
                   capture_output=True)
    return d


def run(dumps, name, options, *extra):
    require_binary()
    # The input is named relative to the dumps' folder: the report prints it as given.
    r = subprocess.run([QUBEMEM, "audit", "--input", f"{name}.sacct", *options.split(), *extra], cwd=dumps,
                       capture_output=True, timeout=300)
    assert r.returncode == 0, r.stderr.decode()
    return r


@pytest.mark.parametrize("name,options", sorted(GOLDEN))
def test_report_is_byte_identical_to_the_one_before(dumps, name, options):
    r = run(dumps, name, options)
    assert hashlib.sha256(r.stdout + r.stderr).hexdigest() == GOLDEN[(name, options)]


@pytest.mark.parametrize("name,options", sorted(GOLDEN_PROMETHEUS))
def test_summary_only_path_gives_the_same_groups_and_quantiles(dumps, name, options):
    prom = dumps / f"{name}-{abs(hash(options))}.prom"
    run(dumps, name, options, "--prometheus", str(prom))
    kept = [line for line in prom.read_text().splitlines(keepends=True)
            if not line.startswith("qubemem_audit_timestamp_seconds")]
    assert hashlib.sha256("".join(kept).encode()).hexdigest() == GOLDEN_PROMETHEUS[(name, options)]


def test_shuffled_rows_give_the_same_summary_as_sacct_order(dumps):
    # The database source may interleave jobs' rows: the config line must not depend on the order.
    assert run(dumps, "v", "--suggest-config").stdout == run(dumps, "vs", "--suggest-config").stdout
