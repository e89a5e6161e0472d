"""qubemem's budget equals QUBE's own model, term for term, for every released model version.

For each model version, 1,000+ random valid configs (both paths, switch on and off, keep-V,
cache on and off, filters with working_dim < n_pix, sizes up to production scale) are priced
by the reference module from the qube-qml wheel and by `qubemem predict --json --path ...`;
every stage's every term name and byte count must be equal. Invalid configs must be rejected
by both.
"""
import concurrent.futures
import json
import os
import pathlib
import random
import subprocess

import pytest

import reference

REPO = pathlib.Path(__file__).resolve().parents[2]
QUBEMEM = os.environ.get("QUBEMEM", str(REPO / ".build" / "debug" / "qubemem"))
CONFIGS_PER_VERSION = int(os.environ.get("QUBEMEM_ORACLE_CONFIGS", "1000"))


def random_config(rng, model):
    path = rng.choice(["harmonic", "pixel_direct"])
    scale = rng.choice([100, 3_000, 20_000, 250_000])  # up to production scale and beyond
    n_pix = rng.randint(1, scale)
    cfg = {"path": path, "n_pix": n_pix, "lmax_signal": rng.randint(2, 2048)}
    if model == "1.3" and rng.random() < 0.4:
        cfg["working_dim"] = rng.randint(1, n_pix)  # includes working_dim == n_pix (no filter)
    if path == "harmonic":
        cfg["n_modes"] = rng.randint(1, scale)
        if rng.random() < 0.6:
            cfg["lmax"] = rng.randint(1, cfg["lmax_signal"])  # equal to lmax_signal: no switch
        cfg["keep_v"] = rng.random() < 0.3
    else:
        cfg["n_bins"] = rng.randint(1, 300)
        cfg["n_params"] = rng.randint(1, 900)
        if model == "1.0":
            cfg["no_switch"] = rng.random() < 0.5
        else:
            cfg["cache"] = rng.random() < 0.5
            if rng.random() < 0.3:
                del cfg["lmax_signal"]  # optional from model 1.2 on
    return cfg


def invalid_config(rng, model):
    cfg = random_config(rng, model)
    kind = rng.choice(["n_pix", "lmax_signal", "working_dim", "counts", "lmax"])
    if kind == "n_pix":
        cfg["n_pix"] = rng.choice([0, -1, -rng.randint(2, 10**6)])
    elif kind == "lmax_signal" and "lmax_signal" in cfg:
        cfg["lmax_signal"] = rng.choice([0, -5])
    elif kind == "working_dim" and model == "1.3":
        cfg["working_dim"] = rng.choice([0, -3, cfg["n_pix"] + rng.randint(1, 1000)])
    elif kind == "lmax" and cfg["path"] == "harmonic":
        cfg["lmax"] = cfg["lmax_signal"] + rng.randint(1, 100)
    elif cfg["path"] == "harmonic":
        cfg["n_modes"] = rng.choice([0, -7])
    else:
        cfg[rng.choice(["n_bins", "n_params"])] = rng.choice([0, -2])
    return cfg


def argv(model, cfg):
    args = [QUBEMEM, "predict", "--json", "--model", model, "--path", cfg["path"], f"--n-pix={cfg['n_pix']}"]
    for key, flag in [("n_modes", "--n-modes"), ("lmax_signal", "--lmax-signal"), ("lmax", "--lmax"),
                      ("working_dim", "--working-dim"), ("n_bins", "--n-bins"), ("n_params", "--n-params")]:
        if cfg.get(key) is not None:
            args.append(f"{flag}={cfg[key]}")
    for key, flag in [("keep_v", "--keep-pixel-projector"), ("cache", "--cache-derivatives"),
                      ("no_switch", "--no-switch")]:
        if cfg.get(key):
            args.append(flag)
    return args


def run_qubemem(model, cfg):
    return subprocess.run(argv(model, cfg), capture_output=True, text=True, timeout=30)


def ours_as_plain(doc):
    return {
        "path": doc["path"],
        "stages": [
            {"name": s["name"],
             "persistent": [(t["name"], t["bytes"]) for t in s["persistent"]],
             "transient": [(t["name"], t["bytes"]) for t in s["transient"]],
             "peak_bytes": s["peak_bytes"]}
            for s in doc["stages"]
        ],
        "lifetime_peak_bytes": doc["lifetime_peak_bytes"],
    }


@pytest.mark.parametrize("model", sorted(reference.RELEASES))
def test_every_term_of_every_stage_equals_the_reference(model):
    module = reference.load(reference.RELEASES[model])
    rng = random.Random(f"oracle-{model}")
    configs = [random_config(rng, model) for _ in range(CONFIGS_PER_VERSION)]
    expected = [reference.as_plain(reference.budget(module, model, c)) for c in configs]
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda c: run_qubemem(model, c), configs))
    mismatches = []
    for cfg, want, got in zip(configs, expected, results):
        if got.returncode != 0:
            mismatches.append((cfg, f"qubemem failed: {got.stderr.strip()}"))
            continue
        ours = ours_as_plain(json.loads(got.stdout))
        if ours != want:
            mismatches.append((cfg, f"want {want}\n got {ours}"))
    assert not mismatches, f"{len(mismatches)} of {len(configs)} differ; first: {mismatches[0]}"
    # The harness itself must be able to tell paths and options apart.
    assert len({(c["path"], c.get("keep_v"), c.get("cache"), c.get("no_switch")) for c in configs}) >= 4


@pytest.mark.parametrize("model", sorted(reference.RELEASES))
def test_both_reject_invalid_configs(model):
    module = reference.load(reference.RELEASES[model])
    rng = random.Random(f"invalid-{model}")
    checked = 0
    for _ in range(120):
        cfg = invalid_config(rng, model)
        try:
            reference.budget(module, model, cfg)
            continue  # the mutation happened not to apply; not an invalid config
        except ValueError:
            pass
        got = run_qubemem(model, cfg)
        assert got.returncode == 64, f"{cfg}: qubemem accepted what the reference rejects: {got.stdout[:200]}"
        assert got.stderr.startswith("Error: "), got.stderr
        checked += 1
    assert checked >= 60
