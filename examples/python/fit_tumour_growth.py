"""Fit one model parameter, the tumour growth rate, to a target tumour curve with
scipy.optimize.

    python examples/python/fit_tumour_growth.py --resolution 10 --days 5 --out fit.png

The target is a synthetic "observation": the tumour volume curve of a run with
tumour_growth = 0.55 1/day (the model file's default is 0.4), sampled at every metrics
row. Replace `target_curve` with measured volumes (mm^3 against days) to fit real data.
The fit minimises the squared difference of log volumes over tumour_growth in
[0.1, 1.0] 1/day (bounded Brent, scipy.optimize.minimize_scalar) and plots the target, the
starting curve and the fitted one.
"""

import argparse
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from scipy.optimize import minimize_scalar  # noqa: E402

import osteoniche as on  # noqa: E402

PRESET = Path(__file__).resolve().parents[2] / "presets" / "breast-osteolytic.toml"
TRUE_GROWTH = 0.55  # 1/day, the synthetic observation's rate
DEFAULT_GROWTH = 0.4  # 1/day, presets/model/bone-metastasis.toml


def curve(growth, resolution, days, seed):
    """(days, tumour mm^3) of one run at this growth rate."""
    sim = on.Simulation(
        PRESET, resolution=resolution, backend="cpu", seed=seed, set={"tumour_growth": growth}
    )
    sim.run(days=days)
    m = sim.metrics()
    return np.asarray(m["time_days"]), np.asarray(m["tumour_integral"]) / 1e9


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--resolution", type=int, default=10, help="voxels on the longest axis")
    ap.add_argument("--days", type=float, default=5.0, help="simulated days")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=Path("fit.png"), help="figure (PNG)")
    args = ap.parse_args()

    t, target = curve(TRUE_GROWTH, args.resolution, args.days, args.seed)
    evaluations = []

    def loss(growth):
        _, v = curve(growth, args.resolution, args.days, args.seed)
        err = float(np.sum((np.log(v) - np.log(target)) ** 2))
        evaluations.append((growth, err))
        return err

    fit = minimize_scalar(loss, bounds=(0.1, 1.0), method="bounded", options={"xatol": 1e-4})
    print(
        f"fitted tumour_growth = {fit.x:.4f} 1/day (target {TRUE_GROWTH}), "
        f"loss {fit.fun:.3g}, {len(evaluations)} runs"
    )

    _, start = curve(DEFAULT_GROWTH, args.resolution, args.days, args.seed)
    _, fitted = curve(fit.x, args.resolution, args.days, args.seed)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(t, target, "o", color="black", label=f"target (growth {TRUE_GROWTH}/day)")
    ax.plot(t, start, "--", color="#0072b2", label=f"start (growth {DEFAULT_GROWTH}/day)")
    ax.plot(t, fitted, "-", color="#d55e00", label=f"fitted (growth {fit.x:.3f}/day)")
    ax.set_xlabel("day")
    ax.set_ylabel("tumour volume (mm³)")
    ax.set_title(f"Fit of tumour_growth, {args.resolution}³ grid")
    ax.legend()
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)
    print(f"wrote {args.out}")
    # The fit must find the rate it was built from (the loss is 0 there).
    if abs(fit.x - TRUE_GROWTH) > 0.01:
        sys.exit(f"the fit missed: {fit.x:.4f} against {TRUE_GROWTH}")


if __name__ == "__main__":
    main()
