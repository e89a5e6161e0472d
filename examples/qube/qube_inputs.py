"""Inputs for QUBE YAML runs, written the way QUBE reads them (examples/qube/run.yaml, tests/config).

    python3 examples/qube/qube_inputs.py examples/qube/run.yaml    # writes them under the current directory

`write_inputs(config, workdir)` reads a QUBE YAML config and writes, relative to `workdir`, every
file it names that a Fisher run opens: the HEALPix mask (healpy, one column per map component),
the full-sky noise covariance(s) as raw float64 (diagonal), the C_ell text file with its `#`
header, and the beam file when `smoothing_type: file`.
"""

from pathlib import Path

import healpy as hp
import numpy as np
import yaml


def cap_mask(nside, radians):
    """1 inside a polar cap of this opening angle, 0 outside."""
    theta, _ = hp.pix2ang(nside, np.arange(hp.nside2npix(nside)))
    return (theta < radians).astype(np.float64)


def components(spins):
    return sum(2 if s == 2 else 1 for s in spins)


def write_mask(path, nside, spins, t_cap=1.4, p_cap=1.1):
    """A mask with one column per component: temperature fields see a wider cap than polarisation."""
    columns = []
    for spin in spins:
        if spin == 2:
            columns += [cap_mask(nside, p_cap)] * 2
        else:
            columns.append(cap_mask(nside, t_cap))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    hp.write_map(str(path), columns, overwrite=True, dtype=np.float64)
    return [int((c > 0.5).sum()) for c in columns]


def write_inputs(config_path, workdir, **mask_options):
    """Writes every input file `config_path` names, under `workdir` (QUBE's working directory)."""
    workdir = Path(workdir)
    cfg = yaml.safe_load(Path(config_path).read_text())
    nside = cfg.get("nside", 16)
    spins = cfg.get("spins", [0, 2])
    ncomp = components(spins)
    write_mask(workdir / cfg.get("maskfile", "inputs/mask.fits"), nside, spins, **mask_options)
    full = ncomp * hp.nside2npix(nside)
    for key in ("covmatfile1", "covmatfile2") if cfg.get("do_cross") else ("covmatfile1",):
        target = workdir / cfg.get(key, f"inputs/NCVM{key[-1]}.bin")
        target.parent.mkdir(parents=True, exist_ok=True)
        # Diagonal white noise, written row by row so the test never holds two copies.
        with open(target, "wb") as out:
            row = np.zeros(full, dtype=np.float64)
            for i in range(full):
                row[i] = 1e-3
                row.tofile(out)
                row[i] = 0.0
    lmax_signal = cfg.get("lmax_signal") or 4 * nside
    ells = np.arange(2, lmax_signal + 1)
    cl = 1.0 / (ells * (ells + 1.0))
    clfile = workdir / cfg.get("inputclfile", "inputs/cls.dat")
    clfile.parent.mkdir(parents=True, exist_ok=True)
    with open(clfile, "w") as out:
        out.write("# ell TT EE BB TE EB TB\n")
        for ell, c in zip(ells, cl):
            out.write(f"{ell} {c:.6e} {0.1 * c:.6e} {0.01 * c:.6e} {0.0:.6e} {0.0:.6e} {0.0:.6e}\n")
    if cfg.get("smoothing_type", "cosine_legacy") == "file":
        beam = workdir / cfg.get("beam_file", "inputs/beam.fits")
        beam.parent.mkdir(parents=True, exist_ok=True)
        bl = np.ones(lmax_signal + 1)
        hp.write_cl(str(beam), [bl, bl, bl], overwrite=True)
    return cfg


if __name__ == "__main__":
    import sys

    if len(sys.argv) != 2:
        sys.exit("usage: qube_inputs.py CONFIG.yaml  (writes the inputs it names under the current directory)")
    write_inputs(sys.argv[1], ".")
    print(f"inputs of {sys.argv[1]} written under {Path.cwd()}")
