"""Real QUBE 1.3 runs from YAML, against what qubemem predicts from the same config.

`qube-fisher-run examples/qube/run.yaml` (QU, nside 16, harmonic as QUBE's CLI picks it; its
inputs written by examples/qube/qube_inputs.py) runs under `qubemem profile`, whose
`--qube-config` prices the same file: the request must cover the measured peak. The full-sky
covariance read (load_reduced: false) is measured on its own: the rise of RSS across QUBE's
covariance setup is at least the term qubemem adds for it, and within the stage qubemem prices.
"""

import json
import shutil
import subprocess
import sys
import textwrap

from config_helpers import QUBEMEM, REPO, _binary, predict_json  # noqa: F401 (_binary: autouse fixture)
from qube_inputs import write_inputs

EXAMPLE = REPO / "examples" / "qube" / "run.yaml"
MIB = 1 << 20


def _fisher_run_argv(config):
    exe = shutil.which("qube-fisher-run")
    if exe:
        return [exe, str(config)]
    return [sys.executable, "-c", "import sys; from qube.cli import fisher_main; sys.argv[1:] = [sys.argv[-1]]; "
            "fisher_main()", str(config)]


def _example(tmp_path, **mask_options):
    config = tmp_path / "run.yaml"
    shutil.copy(EXAMPLE, config)
    write_inputs(config, tmp_path, **mask_options)
    (tmp_path / "outputs").mkdir(exist_ok=True)
    return config


def test_pixel_direct_qube_fisher_run_from_yaml_fits_the_request(tmp_path):
    """A small polarisation cap (about 70 pixels per map): QUBE's CLI picks pixel-direct."""
    config = _example(tmp_path, p_cap=0.3)
    predicted = predict_json(config, tmp_path)
    assert predicted["qube_config"]["path"] == "pixel_direct"
    peak = _profiled_peak(config, tmp_path)
    request = predicted["request"]["request_mib"] * MIB
    assert peak <= request, f"measured {peak / MIB:.0f} MiB above the request {request / MIB:.0f} MiB"
    assert peak / predicted["request"]["total_bytes"] >= 0.6, (peak / MIB, predicted["request"]["total_bytes"] / MIB)


def _profiled_peak(config, tmp_path):
    report_path = tmp_path / "profile.json"
    proc = subprocess.run([QUBEMEM, "profile", "--json", str(report_path), "--qube-config", str(config), "--",
                           *_fisher_run_argv(config)], capture_output=True, text=True, cwd=tmp_path, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (tmp_path / "outputs" / "run_fisher.dat").exists()
    return json.loads(report_path.read_text())["peak_bytes"]


def test_qube_fisher_run_from_yaml_fits_the_request(tmp_path):
    config = _example(tmp_path)
    predicted = predict_json(config, tmp_path)
    assert predicted["qube_config"]["path"] == "harmonic"
    report_path = tmp_path / "profile.json"
    proc = subprocess.run([QUBEMEM, "profile", "--json", str(report_path), "--qube-config", str(config), "--",
                           *_fisher_run_argv(config)], capture_output=True, text=True, cwd=tmp_path, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(report_path.read_text())
    peak = report["peak_bytes"]
    request = predicted["request"]["request_mib"] * MIB
    assert (tmp_path / "outputs" / "run_fisher.dat").exists()
    assert peak <= request, f"measured {peak / MIB:.0f} MiB above the request {request / MIB:.0f} MiB"
    # Not a loose bound either: the prediction before slack is within 25% of the measurement.
    total = predicted["request"]["total_bytes"]
    assert 0.75 <= peak / total <= 1.10, (peak / MIB, total / MIB)


# QUBE's own set-up up to its noise covariance, with the kernel's high-water mark reset just
# before it: prints the RSS before and the peak during setup_covariance_matrices.
COVARIANCE_PROBE = textwrap.dedent("""
    import sys
    from qube.fisher import Fisher

    def status(field):
        for line in open("/proc/self/status"):
            if line.startswith(field):
                return int(line.split()[1]) * 1024

    fisher = Fisher(sys.argv[1])
    fisher.setup_fields()
    fisher.setup_geometry()
    before = status("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    fisher.setup_covariance_matrices()
    print(before, status("VmHWM"))
""")


def test_full_sky_covariance_read_is_measured_and_priced(tmp_path):
    config = _example(tmp_path)
    r = subprocess.run([sys.executable, "-c", COVARIANCE_PROBE, str(config)], capture_output=True, text=True,
                       cwd=tmp_path, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    before, peak = map(int, r.stdout.split()[-2:])
    rise = peak - before
    predicted = predict_json(config, tmp_path)
    term = predicted["qube_config"]["full_sky_covariance_bytes"]
    assert term == (2 * 12 * 16 * 16) ** 2 * 8
    measured = [t for t in predicted["measured_terms"] if t["stage"] == "covariance_setup"]
    assert [t["bytes"] for t in measured] == [term]
    stage = next(s for s in predicted["stages"] if s["name"] == "covariance_setup")
    n_pix = predicted["config"]["n_pix"]
    priced = stage["peak_bytes"] + term + n_pix * n_pix * 8  # the stage, the read, the reduced matrix
    assert term <= rise <= priced, (rise / MIB, term / MIB, priced / MIB)


CROSS = """\
nside: 8
spins: [2]
labels: ["E", "B"]
do_cross: true
maskfile: 'inputs/x_mask.fits'
inputclfile: 'inputs/x_cls.txt'
covmatfile1: 'inputs/x_NCVM1.bin'
covmatfile2: 'inputs/x_NCVM2.bin'
lmax: 32
smoothing_type: gaussian
fwhmarcmin: 440.0
apply_pixwin: false
feedback: 1
"""


def test_cross_run_needs_and_fits_its_measured_terms(tmp_path):
    """A cross run (do_cross) takes QUBE's traditional path: its peak is above pixel-direct's
    budget with both covariances, and within the request once the derivatives its trace keeps
    are priced (measured here: 672 MiB against 689 MiB predicted before slack)."""
    config = tmp_path / "cross.yaml"
    config.write_text(CROSS)
    write_inputs(config, tmp_path, p_cap=1.3)
    predicted = predict_json(config, tmp_path)
    assert predicted["qube_config"]["path"] == "traditional"
    assert "cross=yes" in predicted["qube_config"]["comment"]
    kept = [t for t in predicted["measured_terms"] if t["stage"] == "fisher_run"]
    n_pix = predicted["config"]["n_pix"]
    assert [t["bytes"] for t in kept] == [predicted["config"]["n_params"] * n_pix * n_pix * 8]
    report_path = tmp_path / "profile.json"
    proc = subprocess.run([QUBEMEM, "profile", "--json", str(report_path), "--qube-config", str(config), "--",
                           *_fisher_run_argv(config)], capture_output=True, text=True, cwd=tmp_path, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    peak = json.loads(report_path.read_text())["peak_bytes"]
    total = predicted["request"]["total_bytes"]
    assert peak > total - kept[0]["bytes"], "the kept derivatives are real: without them the run is underpriced"
    assert peak <= predicted["request"]["request_mib"] * MIB
    assert 0.85 <= peak / total <= 1.10, (peak / MIB, total / MIB)
