"""A real QUBE 1.3 run on synthetic inputs built in memory, for `qubemem profile`.

Builds a polar-cap mask, a diagonal (white) noise covariance over the observed pixels and
power-law C_ell, then runs QUBE's Fisher (and Spectra with --spectra) from pip `qube-qml`,
with the qubemem stage hook attached. Nothing is read from disk; outputs go to a temporary
folder that is removed at the end.

    python3 qube_workload.py --fields QU --nside 16 --n-obs 1504 --lmax 32 --path pixel_direct
    python3 qube_workload.py --fields QU --nside 32 --n-obs 2496 --lmax 64 --lmax-signal 128 --path harmonic
    qubemem profile -- python3 qube_workload.py --fields QU --nside 16 --fsky 0.1 --lmax 32

Prints one line of JSON: the dimensions QUBE ran with (n_pix, n_modes when harmonic, ...).

Under MPI (`mpiexec -n R python3 qube_workload.py ...`, with qube-qml[mpi] and mpich installed)
every rank runs this script, as `qube-fisher-run` would: the inputs (the noise covariance) are
built on rank 0 only, as QUBE's CLI reads them on rank 0 only, and each rank writes one line
`{"rank": r, "size": R, "peak_rss_bytes": ...}` to standard error at the end (its own
getrusage high-water mark), so that a measurement can split the node's peak by rank.
"""

import argparse
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qubemem_stage_hook import attach, stage  # noqa: E402

FIELDS = {
    # labels, spins, spectra priced per bin
    "T": (["T"], [0], ["TT"]),
    "QU": (["E", "B"], [2], ["EE", "BB", "EB"]),
    "TQU": (["T", "E", "B"], [0, 2], ["TT", "EE", "BB", "TE", "EB", "TB"]),
}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--fields", choices=sorted(FIELDS), default="QU")
    p.add_argument("--nside", type=int, default=16)
    p.add_argument("--n-obs", type=int, help="observed (unmasked) pixels per field")
    p.add_argument("--fsky", type=float, help="observed sky fraction (instead of --n-obs)")
    p.add_argument("--lmax", type=int, help="inference window (default 2 × nside)")
    p.add_argument("--lmax-signal", type=int, help="signal ceiling (default 4 × nside)")
    p.add_argument("--path", choices=["harmonic", "pixel_direct", "auto"], default="auto")
    p.add_argument("--bins", type=int, help="number of equal-width bins from ℓ=2 to lmax (default: unbinned)")
    p.add_argument("--spectra", action="store_true", help="also run Spectra on a simulated map")
    p.add_argument("--cache-derivatives", action="store_true", help="Fisher(cache_derivatives=True)")
    p.add_argument("--threads", type=int, default=None, help="BLAS threads (sets OMP_NUM_THREADS before numpy)")
    return p.parse_args(argv)


def mpi_rank_and_size():
    """(rank, size) when launched by an MPI launcher (mpich's hydra sets PMI_*), else (0, 1)."""
    if "PMI_RANK" not in os.environ and "OMPI_COMM_WORLD_RANK" not in os.environ:
        return 0, 1
    from mpi4py import MPI
    return MPI.COMM_WORLD.Get_rank(), MPI.COMM_WORLD.Get_size()


def report_rank_peak(rank, size):
    import resource
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    # One write(2) for the whole line: the ranks share the job's output file, and print() may write
    # the text and its newline separately, so two ranks' records could run into one line.
    sys.stderr.flush()
    os.write(2, (json.dumps({"rank": rank, "size": size, "peak_rss_bytes": peak}) + "\n").encode())


def main(argv=None):
    args = parse_args(argv)
    if args.threads:
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(args.threads)
    with stage("driver.imports"):
        import healpy as hp
        import numpy as np
        from qube import Fisher

    nside = args.nside
    npix_sky = 12 * nside * nside
    if args.n_obs is None:
        args.n_obs = round(npix_sky * (args.fsky if args.fsky else 0.1))
    if not 0 < args.n_obs <= npix_sky:
        sys.exit(f"--n-obs must be in 1..{npix_sky} for nside {nside}")
    lmax = args.lmax or 2 * nside
    lmax_signal = args.lmax_signal or 4 * nside
    labels, spins, spectra = FIELDS[args.fields]

    rank, size = mpi_rank_and_size()
    with stage("driver.inputs"):
        # Polar cap: the n_obs pixels nearest the north pole (RING order numbers them so).
        mask = np.zeros(npix_sky)
        mask[: args.n_obs] = 1.0
        nfields = len(labels) if args.fields != "QU" else 2
        n_active = args.n_obs * (2 if args.fields == "QU" else (3 if args.fields == "TQU" else 1))
        # White noise, µK² per pixel: diagonal, float64, n_active² like a real input.
        # Only rank 0 holds it, as only rank 0 reads it in a CLI run (setup is rank 0's).
        noise = None
        if rank == 0:
            noise = np.zeros((n_active, n_active))
            np.fill_diagonal(noise, 1e-4)
        ell = np.arange(lmax_signal + 1, dtype=float)
        shape = np.zeros_like(ell)
        shape[2:] = 1.0 / (ell[2:] * (ell[2:] + 1.0))
        cls = {"TT": 1e3 * shape, "EE": 10.0 * shape, "BB": 0.5 * shape,
               "TE": 50.0 * shape, "EB": 0.0 * shape, "TB": 0.0 * shape}
        cls = {k: v for k, v in cls.items() if k in spectra}

    out = tempfile.mkdtemp(prefix="qube_workload_")
    params = {
        "nside": nside, "spins": spins, "labels": labels, "lmax": lmax, "lmax_signal": lmax_signal,
        "do_cross": False, "ordering": "RING", "smoothing_type": "none", "apply_pixwin": False,
        "feedback": 0, "outfilefisher": os.path.join(out, "fisher.dat"),
        "outnoisecovmat1": os.path.join(out, "noise1.bin"), "outnoisecovmat2": os.path.join(out, "noise2.bin"),
        "outinvcovmatfile1": os.path.join(out, "inv1.bin"), "outinvcovmatfile2": os.path.join(out, "inv2.bin"),
        "output_geometry_file": os.path.join(out, "geometry.dat"),
    }
    if args.bins:
        edges = np.linspace(2, lmax + 1, args.bins + 1).astype(int)
        params["bin_lmins"] = [int(e) for e in edges[:-1]]
        params["bin_lmaxs"] = [int(e) - 1 for e in edges[1:]]
    if args.spectra:
        params["nsims"] = 1  # Spectra estimates from one map set (the data)
    method = {"harmonic": "harmonic", "pixel_direct": "pixel", "auto": "auto"}[args.path]
    basis = {"method": method, "lmax_signal": lmax_signal}

    fisher = Fisher(params, basis=basis, cache_derivatives=args.cache_derivatives,
                    mask=mask if nfields == 1 else np.repeat(mask[:, None], nfields, axis=1),
                    noise_cov1=noise, cls_data=cls, fiducial_cls=cls)
    attach(fisher)
    fisher.run()
    bm = getattr(fisher, "basis_manager", None)
    summary = {
        "fields": args.fields, "nside": nside, "n_obs": args.n_obs, "n_pix": n_active,
        "lmax": lmax, "lmax_signal": lmax_signal, "path": getattr(bm, "method", None),
        "n_modes": getattr(bm, "dim", None) if getattr(bm, "method", None) == "harmonic" else None,
        "fisher_shape": list(np.shape(fisher.fisher)) if getattr(fisher, "fisher", None) is not None else None,
    }
    if args.spectra:
        from qube import Spectra
        # Spectra given fisher= reuses its geometry, mask, covariances and Cls; it takes only the
        # data: one simulation over the active pixels (its content does not change the memory).
        rng = np.random.default_rng(1)
        maps = rng.normal(size=(n_active, 1))
        spectra_run = Spectra(params, fisher=fisher, basis=basis, maps1=maps)
        attach(spectra_run)
        spectra_run.run()
        summary["spectra"] = True
        del rng, maps
    if rank == 0:
        print(json.dumps(summary))
    if size > 1:
        report_rank_peak(rank, size)
    return 0


if __name__ == "__main__":
    sys.exit(main())
