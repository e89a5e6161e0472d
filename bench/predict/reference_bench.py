"""Times QUBE's own model (predict_qube_budget / predict_pixel_direct_budget from each qube-qml
wheel) in-process on the same configs as qubemem-bench; prints ns per config and the checksum of
lifetime peaks, best of REPS."""
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "tests" / "oracle"))
import reference  # noqa: E402

modules = {m: reference.load(r) for m, r in reference.RELEASES.items()}
reps = int(sys.argv[1]) if len(sys.argv) > 1 else 5
calls = []
for line in sys.stdin:
    f = line.split()
    model, path = f[0], f[1]
    mod = modules[model]
    opt = lambda s: None if s == "-" else int(s)  # noqa: E731
    if path == "harmonic":
        kw = dict(n_pix=int(f[2]), n_modes=int(f[3]), lmax_signal=int(f[4]), lmax=opt(f[5]),
                  release_pixel_projector=f[6] == "0")
        if f[7] != "-":
            kw["working_dim"] = int(f[7])
        calls.append((mod.predict_qube_budget, mod.BudgetConfig, kw))
    else:
        kw = dict(n_pix=int(f[2]), n_bins=int(f[3]), n_params=int(f[4]))
        if model == "1.0":
            kw.update(lmax_signal=int(f[5]), has_switch=f[6] == "1")
        else:
            kw.update(lmax_signal=opt(f[5]), cache_derivatives=f[7] == "1")
            if f[8] != "-":
                kw["working_dim"] = int(f[8])
        calls.append((mod.predict_pixel_direct_budget, mod.PixelDirectBudgetConfig, kw))

best = float("inf")
checksum = 0
for _ in range(reps):
    total = 0
    t0 = time.perf_counter_ns()
    for predict, config, kw in calls:
        total += predict(config(**kw)).lifetime_peak_bytes
    best = min(best, time.perf_counter_ns() - t0)
    checksum = total % (1 << 64)
print(f"configs={len(calls)} best_ns_per_config={best / len(calls)} checksum={checksum}")
