"""Writes N random valid budget configs (all three models, both paths) for bench/predict/run.sh,
one per line in qubemem-bench's format."""
import random
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
rng = random.Random(2026)
for _ in range(n):
    model = rng.choice(["1.0", "1.2", "1.3"])
    n_pix = rng.randint(1000, 100000)
    wd = str(rng.randint(1, n_pix)) if model == "1.3" and rng.random() < 0.3 else "-"
    ls = rng.randint(64, 1024)
    if rng.random() < 0.5:
        lmax = str(rng.randint(2, ls)) if rng.random() < 0.6 else "-"
        print(model, "harmonic", n_pix, rng.randint(1000, 100000), ls, lmax, int(rng.random() < 0.3), wd)
    else:
        print(model, "pixel_direct", n_pix, rng.randint(1, 300), rng.randint(1, 900),
              ls if model == "1.0" or rng.random() < 0.5 else "-",
              int(rng.random() < 0.5), int(model != "1.0" and rng.random() < 0.5), wd)
