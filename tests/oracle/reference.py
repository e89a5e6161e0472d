"""QUBE's own memory model, loaded straight from the released qube-qml wheels.

The wheels are the oracle for qubemem's budget library: `pip download --no-deps` fetches each
release once into .cache/wheels, and each release's `qube/memory_budget.py` (standard library
only) is loaded as a module of its own. Nothing of it is copied into the project.
"""
import importlib.util
import pathlib
import subprocess
import sys
import zipfile

REPO = pathlib.Path(__file__).resolve().parents[2]
CACHE = REPO / ".cache" / "wheels"

# One release per model version: model 1.0 = 1.0.x/1.1.0, 1.2 = 1.2.0, 1.3 = 1.3.0.
RELEASES = {"1.0": "1.0.1", "1.2": "1.2.0", "1.3": "1.3.0"}


def wheel(release):
    folder = CACHE / release
    found = sorted(folder.glob("qube_qml-*.whl")) if folder.exists() else []
    if not found:
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(folder),
             f"qube-qml=={release}"],
            check=True,
        )
        found = sorted(folder.glob("qube_qml-*.whl"))
    return found[0]


def load(release):
    """The module `qube.memory_budget` of one qube-qml release."""
    target = CACHE / release / "memory_budget.py"
    if not target.exists():
        with zipfile.ZipFile(wheel(release)) as z:
            target.write_bytes(z.read("qube/memory_budget.py"))
    spec = importlib.util.spec_from_file_location(f"qube_memory_budget_{release.replace('.', '_')}", target)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def budget(module, model, cfg):
    """Run the reference on a config dict; returns its budget, or raises ValueError."""
    if cfg["path"] == "harmonic":
        kwargs = dict(n_pix=cfg["n_pix"], n_modes=cfg["n_modes"], lmax_signal=cfg["lmax_signal"],
                      lmax=cfg.get("lmax"), release_pixel_projector=not cfg.get("keep_v", False))
        if cfg.get("working_dim") is not None:
            kwargs["working_dim"] = cfg["working_dim"]
        return module.predict_qube_budget(module.BudgetConfig(**kwargs))
    kwargs = dict(n_pix=cfg["n_pix"], n_bins=cfg["n_bins"], n_params=cfg["n_params"])
    if model == "1.0":
        kwargs["lmax_signal"] = cfg["lmax_signal"]
        kwargs["has_switch"] = not cfg.get("no_switch", False)
    else:
        if cfg.get("lmax_signal") is not None:
            kwargs["lmax_signal"] = cfg["lmax_signal"]
        kwargs["cache_derivatives"] = cfg.get("cache", False)
        if cfg.get("working_dim") is not None:
            kwargs["working_dim"] = cfg["working_dim"]
    return module.predict_pixel_direct_budget(module.PixelDirectBudgetConfig(**kwargs))


def as_plain(b):
    """A reference budget as plain data: stages with ordered (name, bytes) terms."""
    return {
        "path": b.path,
        "stages": [
            {"name": s.name, "persistent": list(s.persistent.items()),
             "transient": list(s.transient.items()), "peak_bytes": s.peak_bytes}
            for s in b.stages
        ],
        "lifetime_peak_bytes": b.lifetime_peak_bytes,
    }
