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
# The v/vs figures were renewed once, for one intended change: a NODE_FAIL job is counted without
# a peak (its surviving nodes' figures are not its run's). With its NODE_FAIL jobs removed, the
# dump's reports were checked byte-identical before and after that change; d1 has none.
GOLDEN = {
    ("d1", "--json"): "96a8dc19610739c8079b527919cff079e019ca94b9a0aae68da79cb5778b19bd",
    ("d1", ""): "9d5d4fea45ee48b62eed3abd4174060a587d64ca5a4c6628be41db7f38664d07",
    ("d1", "--all --json"): "96a8dc19610739c8079b527919cff079e019ca94b9a0aae68da79cb5778b19bd",
    ("d1", "--suggest-config"): "f9d6674d239851f97096313c4f507d531979124ed9f7d97ad6d004becb3b5d99",
    ("d1", "--csv"): "6d9dd5423a09a08bce3c20be8b9bd2d0547d676ef80e8b2550dfe73f703d9cd7",
    ("d1", "--all"): "9d5d4fea45ee48b62eed3abd4174060a587d64ca5a4c6628be41db7f38664d07",
    ("d1", "--all --target 0.95 --slack 1.2 --json"): "be20a963fd13728959a1d0c44d15e1619a4051e79fe97770cc0b2f247422a5a2",
    ("d1", "--suggest-config --target 0.9"): "8dc17f32c649713cd6641c5e49d01b25120f3aa50361f889982d2fcd31d0e15f",
    ("v", "--json"): "7ee773fd91efb92a8260785b22ebf9ff46acad2069c5ff98538945bad3241f8f",
    ("v", ""): "57cd3986e72d5ca1454f0aa40aae0b8af5eebb943ea52d0730594999d39eedc3",
    ("v", "--all --json"): "75cac50dcfe49e35a3484f96fb835f91ce41d54e8b7268b7e6323ae156e5e636",
    ("v", "--suggest-config"): "40d6532fc88eeb8331ecd4c6ecba584910b09ae7530f3f283851f0ee68414fb4",
    ("v", "--csv"): "da1481b1461da0ffe738d50c6f80e5bf13bf80c7185f34d6ede219cce348ee39",
    ("v", "--all"): "20339ababeb4df9b3efb5ce3a9c885f7aed98276430f05db2d19d5a5c047fd8b",
    ("v", "--all --target 0.95 --slack 1.2 --json"): "eb05113441272f2f121e2bc4868b86eb52a98baefa012fdb5321f123a9352110",
    ("v", "--suggest-config --target 0.9"): "ac983d3c658343809d88675df0feb47def5062a95a539b25bfad4cfac71e5a0b",
    ("vs", "--json"): "34e474e9d401b176dce270aa167707826ac1f54f310b127d97605589abd7afcb",
    ("vs", ""): "0f23556ff90d3a3eebf9a59a42ca0fd05372888844e345c0f9ef024768d58241",
    ("vs", "--all --json"): "a0837415eeee1989dbe5e14d5e20f7e3a9861956c7a2dce6331ed74637445551",
    ("vs", "--suggest-config"): "40d6532fc88eeb8331ecd4c6ecba584910b09ae7530f3f283851f0ee68414fb4",
    ("vs", "--csv"): "da1481b1461da0ffe738d50c6f80e5bf13bf80c7185f34d6ede219cce348ee39",
    ("vs", "--all"): "c08dc29f9096ba8350b422713cbc0cf27d99a37b552a18e511be2f5b24f8e425",
    ("vs", "--all --target 0.95 --slack 1.2 --json"): "e5872169ddc4c362499fd85865386102e2eb1e6ad07a36dbae05343559b1b610",
    ("vs", "--suggest-config --target 0.9"): "ac983d3c658343809d88675df0feb47def5062a95a539b25bfad4cfac71e5a0b",
}

# (dump, options) -> sha256 of the --prometheus file without its timestamp line.
GOLDEN_PROMETHEUS = {
    ("d1", "--suggest-config"): "41eca7172c4c397cb830f99f7430b85ff5bfaacfc5a8d79c7780faa3b997ca9a",
    ("d1", "--suggest-config --all --target 0.95"): "938a970d27c256039fb82a7c0da3295fef68a5a8b00e8b81a1786af75d6df5f7",
    ("v", "--suggest-config"): "ded998090f6c9ff29ac7b8b260855a59de43b1b5b32edeea8d686c1f5db3673f",
    ("v", "--suggest-config --all --target 0.95"): "c61b87e4038bd17d80283bdbef8c7ec673a6b27433850f3465f7f346c141dac0",
    ("vs", "--suggest-config"): "ded998090f6c9ff29ac7b8b260855a59de43b1b5b32edeea8d686c1f5db3673f",
    ("vs", "--suggest-config --all --target 0.95"): "c61b87e4038bd17d80283bdbef8c7ec673a6b27433850f3465f7f346c141dac0",
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
