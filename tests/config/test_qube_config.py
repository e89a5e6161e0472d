"""qubemem predict --qube-config derives a QUBE YAML run's dimensions exactly as QUBE 1.3 does.

For every example config shipped in the qube-qml wheel (inputs written here with healpy, the
temperature field seeing a wider cap than polarisation), QUBE itself loads the config and runs
until its CLI's automatic path pick; the pick's arguments (n_pix, n_modes, n_bins) and answer are
recorded there and compared with what qubemem derived from the same files. Bad inputs each give
one clear error naming the file and the problem.
"""

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from config_helpers import _binary, predict_json, qubemem  # noqa: F401 (_binary: autouse fixture)
from qube_inputs import write_inputs, write_mask

import qube

WHEEL = Path(qube.__file__).resolve().parent
EXAMPLES = sorted(p.name for p in WHEEL.glob("*_defaults.yaml"))

# Runs QUBE's own Fisher on the config until the CLI's path pick, and prints what the pick saw.
QUBE_PROBE = textwrap.dedent("""
    import json, sys
    import cosmocore.basis as basis
    from cosmocore.bins import Bins
    from qube.fisher import Fisher

    seen = {}
    real_pick = basis._auto_pick_method

    class Picked(Exception):
        pass

    def spy(n_pix, n_modes, lmax, n_bins):
        method = real_pick(n_pix, n_modes, lmax, n_bins)[0]
        seen.update(n_pix=n_pix, n_modes=n_modes, pick_n_bins=n_bins,
                    path="harmonic" if method == "harmonic" else "pixel_direct")
        raise Picked

    basis._auto_pick_method = spy
    fisher = Fisher(sys.argv[1])
    p = fisher.params
    try:
        fisher.run()
    except Picked:
        pass
    if p.bin_lmins is not None and p.bin_lmaxs is not None:
        bins = Bins(p.bin_lmins, p.bin_lmaxs)
    else:
        bins = Bins.fromdeltal(p.lmin, p.lmax, p.delta_ell)
    seen.update(n_bins=int(bins.nbins), n_params=int(p.nspectra * bins.nbins), lmax=int(p.lmax),
                lmax_signal=int(fisher.lmax_signal), n_obs=[int(n) for n in fisher.npixs])
    print(json.dumps(seen))
""")


def qube_dimensions(config, cwd):
    import json
    r = subprocess.run([sys.executable, "-c", QUBE_PROBE, str(config)], capture_output=True, text=True,
                       cwd=cwd, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("name", EXAMPLES)
def test_dimensions_equal_qubes_own_for_each_wheel_example(name, tmp_path):
    config = tmp_path / name
    shutil.copy(WHEEL / name, config)
    write_inputs(config, tmp_path)
    ours = predict_json(config, tmp_path)["qube_config"]
    theirs = qube_dimensions(config, tmp_path)
    assert ours["n_obs"] == theirs["n_obs"]
    assert ours["n_pix"] == theirs["n_pix"]
    assert ours["n_modes"] == theirs["n_modes"]
    assert ours["pick_n_bins"] == theirs["pick_n_bins"]
    assert ours["path"] == theirs["path"]
    assert ours["n_bins"] == theirs["n_bins"]
    assert ours["n_params"] == theirs["n_params"]
    assert ours["lmax"] == theirs["lmax"]
    assert ours["lmax_signal"] == theirs["lmax_signal"]


@pytest.mark.parametrize("overrides", [
    {"nside": 16, "lmax": 24, "lmax_signal": 40},     # narrowed window: modes at lmax
    {"nside": 16, "lmin": 4, "delta_ell": 5},          # lmin above 2, binned
    {"nside": 8, "bin_lmins": [0, 2, 10], "bin_lmaxs": [1, 9, 20]},  # a bin below 2 is dropped
])
def test_dimensions_equal_qubes_own_with_other_windows_and_bins(overrides, tmp_path):
    import yaml
    cfg = yaml.safe_load((WHEEL / "TQU_defaults.yaml").read_text())
    cfg.update(overrides)
    config = tmp_path / "run.yaml"
    config.write_text(yaml.safe_dump(cfg))
    write_inputs(config, tmp_path)
    ours = predict_json(config, tmp_path)["qube_config"]
    theirs = qube_dimensions(config, tmp_path)
    for key in ("n_obs", "n_pix", "n_modes", "pick_n_bins", "path", "n_bins", "n_params", "lmax", "lmax_signal"):
        assert ours[key] == theirs[key], key


def test_harmonic_pick_is_derived_and_carried_in_the_comment(tmp_path):
    """A low signal ceiling on a wide polarised mask makes QUBE pick harmonic (the wheel's
    examples all pick pixel_direct)."""
    config = tmp_path / "h.yaml"
    config.write_text("nside: 16\nspins: [2]\nlabels: [E, B]\nmaskfile: m.fits\nlmax: 20\nlmax_signal: 24\n"
                      "inputclfile: cls.txt\ncovmatfile1: n.bin\nsmoothing_type: none\n")
    n_obs = write_inputs(config, tmp_path) and write_mask(tmp_path / "m.fits", 16, [2])[0]
    out = predict_json(config, tmp_path)
    theirs = qube_dimensions(config, tmp_path)
    assert theirs["path"] == "harmonic"
    assert out["qube_config"]["path"] == "harmonic" and out["path"] == "harmonic"
    assert out["qube_config"]["n_modes"] == theirs["n_modes"]
    comment = qubemem("predict", "--qube-config", config, "--comment", cwd=tmp_path).stdout.strip()
    assert comment.startswith(f"qube: path=harmonic fields=QU n_obs={n_obs} nside=16 lmax_signal=24 lmax=20")
    assert "cov_read=full" in comment
    # The comment prices exactly what the config does.
    from_comment = qubemem("predict", "--from-comment", comment, "--request", cwd=tmp_path).stdout
    from_config = qubemem("predict", "--qube-config", config, "--request", cwd=tmp_path).stdout
    assert from_comment == from_config


def test_per_field_unmasked_pixels_are_carried_exactly(tmp_path):
    config = tmp_path / "tqu.yaml"
    shutil.copy(WHEEL / "TQU_defaults.yaml", config)
    write_inputs(config, tmp_path)
    out = predict_json(config, tmp_path)
    t, p = out["qube_config"]["n_obs"]
    assert t != p
    assert out["config"]["n_pix"] == t + 2 * p
    assert f"n_pix={t + 2 * p}" in out["qube_config"]["comment"]


def test_unknown_key_is_a_warning_naming_the_nearest_valid_key(tmp_path):
    config = tmp_path / "run.yaml"
    config.write_text((WHEEL / "QU_defaults.yaml").read_text() + "\nlmax_signa: 20\n")
    write_inputs(config, tmp_path)
    r = qubemem("predict", "--qube-config", config, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "unknown key 'lmax_signa' is ignored by QUBE; did you mean 'lmax_signal'?" in r.stderr


def test_layout_options_combine_with_a_config(tmp_path):
    config = tmp_path / "qu.yaml"
    shutil.copy(WHEEL / "QU_defaults.yaml", config)
    write_inputs(config, tmp_path)
    one = predict_json(config, tmp_path)
    two = predict_json(config, tmp_path, "--ntasks-per-node", "2")
    assert two["node"]["ranks_per_node"] == 2
    assert two["node"]["request_mib"] > one["node"]["request_mib"]


def _bad(tmp_path, text=None, mask=None):
    config = tmp_path / "run.yaml"
    config.write_text(text if text is not None else
                      "nside: 8\nspins: [2]\nlabels: [E, B]\nmaskfile: m.fits\nlmax: 16\n")
    if mask is not None:
        mask(tmp_path / "m.fits")
    return qubemem("predict", "--qube-config", config, cwd=tmp_path)


def test_config_that_is_not_yaml(tmp_path):
    r = _bad(tmp_path, text="nside: [8\nspins: {\n")
    assert r.returncode == 1
    assert "run.yaml': not a QUBE YAML config" in r.stderr


def test_missing_config(tmp_path):
    r = qubemem("predict", "--qube-config", tmp_path / "nope.yaml", cwd=tmp_path)
    assert r.returncode == 1
    assert "nope.yaml': cannot read it: no such file" in r.stderr


def test_key_of_the_wrong_type(tmp_path):
    r = _bad(tmp_path, text="nside: sixteen\nmaskfile: m.fits\n")
    assert r.returncode == 1
    assert "run.yaml', line 1: nside is 'sixteen', expected a whole number" in r.stderr


def test_missing_mask(tmp_path):
    r = _bad(tmp_path)
    assert r.returncode == 1
    assert "'m.fits': cannot read it: no such mask file" in r.stderr


def test_mask_that_is_not_fits(tmp_path):
    r = _bad(tmp_path, mask=lambda p: p.write_text("not a FITS file\n"))
    assert r.returncode == 1
    assert "mask '" in r.stderr and "m.fits': not a HEALPix FITS map" in r.stderr


def test_mask_of_another_nside(tmp_path):
    r = _bad(tmp_path, mask=lambda p: write_mask(p, 16, [2]))
    assert r.returncode == 1
    assert "has 3072 pixels per map (nside 16), but the config's nside 8 needs 768" in r.stderr


def test_empty_mask(tmp_path):
    r = _bad(tmp_path, mask=lambda p: write_mask(p, 8, [2], p_cap=0.0))
    assert r.returncode == 1
    assert "m.fits': column 1 has no unmasked pixel" in r.stderr


def test_mask_with_too_few_columns(tmp_path):
    r = _bad(tmp_path, mask=lambda p: write_mask(p, 8, [0]))
    assert r.returncode == 1
    assert "has 1 map column(s), the config's fields need 2" in r.stderr


def test_sweep_prices_each_row_from_its_qube_config(tmp_path):
    rows = []
    for name in ("QU_defaults.yaml", "TQU_defaults.yaml"):
        config = tmp_path / name
        shutil.copy(WHEEL / name, config)
        write_inputs(config, tmp_path)
        rows.append(name)
    (tmp_path / "grid.csv").write_text("qube_config\n" + "\n".join(rows) + "\nmissing.yaml\n")
    r = qubemem("sweep", "--grid", "grid.csv", "--json", "sweep.json", "--", "true", "{qube_config}", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    import json
    report = json.loads((tmp_path / "sweep.json").read_text())
    for row, name in zip(report["rows"], rows):
        predicted = predict_json(tmp_path / name, tmp_path)
        assert row["predicted_total_bytes"] == predicted["request"]["total_bytes"], name
        assert row["path"] == predicted["path"]
    assert "missing.yaml': cannot read it: no such file" in report["rows"][2]["prediction_error"]
