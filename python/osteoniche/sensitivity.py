"""Global sensitivity analysis of a preset's model parameters: Morris elementary effects or
Sobol' indices, sampled and analysed by SALib (Herman & Usher 2017, JOSS 2:97; Iwanaga et
al. 2022, Socio-Environmental Systems Modelling 4:18155), the runs by ``osteoniche sweep``
(locally, or as a Slurm job array with ``--emit slurm`` and ``--collect`` afterwards).

    osteoniche sensitivity PRESET --params tumour_growth,cd8_kill --method morris \\
        --samples 10 --resolution 16 --out out/morris
    osteoniche sensitivity PRESET --params assumptions --method oat ...   # screening
    osteoniche sensitivity --collect out/morris                           # after Slurm

Each parameter varies over [d / F, d * F] around its value d in the preset (``--range F``,
default 2), sampled uniformly in log10 of its magnitude, so the indices are per unit of
that normalised log range (a 0..1 axis from d/F to d*F). ``--method oat`` is the
one-at-a-time central difference at d (the same normalised step as Morris'), the check on
Morris' means and a cheap screen. Every endpoint is a metrics column of the runs at one day
(default: the last): every field's domain integral and every systemic scalar.

Writes into ``--out``: ``design.json`` (problem, method, options, seed), ``samples.csv``
(the sample matrix, parameter values as the sweep sets them), ``sweep/`` (the variants and
their runs), ``outputs.csv`` (every run's endpoints), ``sensitivity.csv`` (every index of
every parameter and endpoint), ``sensitivity.md`` (ranked per endpoint, and by mechanism)
and ``sensitivity.png`` (parameters x endpoints). The same seed gives the same files.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np

METHODS = ("morris", "sobol", "oat")
# Endpoints ranked first in the tables and plotted, when the runs have them.
MAIN_ENDPOINTS = (
    "tumour_integral",
    "bone_integral",
    "osteoclast_integral",
    "cd8_integral",
    "plasma_opn_nM",
)


class SensitivityError(Exception):
    """A bad option, a missing tool or a failed run, with what and where."""


def _finished(run: Path) -> bool:
    """Whether a run folder reached its end (summary.json there and not marked
    interrupted)."""
    try:
        return json.loads((run / "summary.json").read_text()).get("status") != "interrupted"
    except (OSError, ValueError):
        return False


def _binary() -> str:
    exe = os.environ.get("OSTEONICHE_BIN") or shutil.which("osteoniche")
    if not exe:
        raise SensitivityError(
            "no osteoniche binary: put it on PATH or set OSTEONICHE_BIN "
            "(`osteoniche sensitivity` sets it)"
        )
    return exe


def _osteoniche(args: Sequence[str], capture: bool = False) -> str:
    cmd = [_binary(), *args]
    p = subprocess.run(cmd, text=True, capture_output=capture)
    if p.returncode != 0:
        detail = (p.stderr or "").strip() if capture else ""
        raise SensitivityError(
            f"`{' '.join(cmd)}` failed (exit {p.returncode})" + (f": {detail}" if detail else "")
        )
    return p.stdout if capture else ""


def parameters_of(preset: Path) -> Dict[str, dict]:
    """The preset's model parameters (value with [model.set] applied, unit, source, group)."""
    text = _osteoniche(["reference", "--parameters-of", str(preset)], capture=True)
    return {p["name"]: p for p in json.loads(text)}


def _salib():
    try:
        import SALib  # noqa: F401
        from SALib.analyze import morris as morris_analyze
        from SALib.analyze import sobol as sobol_analyze
        from SALib.sample import morris as morris_sample
        from SALib.sample import sobol as sobol_sample
    except ImportError as e:
        raise SensitivityError(
            f"SALib is needed for sensitivity analysis ({e}); "
            "pip install './python[sensitivity]' (or pip install SALib)"
        ) from None
    return morris_sample, morris_analyze, sobol_sample, sobol_analyze


def choose_parameters(spec: str, params: Dict[str, dict], top_from: Optional[Path]) -> List[str]:
    """`a,b,c`; `assumptions` (every parameter whose source is an assumption and whose value
    is not zero); or `top:K:DIR`, the K first of the ranking of an earlier analysis in DIR
    (its sensitivity.csv, ranked as in its sensitivity.md)."""
    if spec == "assumptions":
        names = [n for n, p in params.items() if p["assumption"] and p["value"] != 0.0]
    elif spec.startswith("top:"):
        parts = spec.split(":", 2)
        if len(parts) != 3 or not parts[1].isdigit() or int(parts[1]) < 1:
            raise SensitivityError(f"--params {spec}: write top:K:DIR, e.g. top:20:out/screen")
        names = ranking(Path(parts[2]))[: int(parts[1])]
    else:
        names = [n.strip() for n in spec.split(",") if n.strip()]
    if not names:
        raise SensitivityError("--params: name at least one parameter")
    seen = set()
    for n in names:
        if n not in params:
            near = sorted(params, key=lambda k: _distance(k, n))[:1]
            raise SensitivityError(
                f"--params: `{n}` is not a parameter of this preset's model"
                + (f" (did you mean `{near[0]}`?)" if near else "")
            )
        if params[n]["value"] == 0.0:
            raise SensitivityError(
                f"--params: `{n}` is 0 in this preset; a log range around it is empty"
            )
        if n in seen:
            raise SensitivityError(f"--params: `{n}` is given twice")
        seen.add(n)
    return names


def _distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def problem(names: List[str], params: Dict[str, dict], factor: float) -> dict:
    """SALib's problem: each parameter on [0, 1], mapped to d * F^(2u - 1)."""
    return {
        "num_vars": len(names),
        "names": names,
        "bounds": [[0.0, 1.0]] * len(names),
        "values": [params[n]["value"] for n in names],
        "factor": factor,
    }


def to_values(prob: dict, u: np.ndarray) -> np.ndarray:
    d = np.asarray(prob["values"], dtype=float)
    return d * np.power(prob["factor"], 2.0 * u - 1.0)


def oat_step(levels: int) -> float:
    """Morris' step on the normalised axis, Δ = p / (2 (p - 1)) for p levels (Saltelli et
    al. 2004, Sensitivity Analysis in Practice, ch. 3): the OAT step is the same."""
    return levels / (2.0 * (levels - 1))


def sample(method: str, prob: dict, n: int, levels: int, seed: int) -> np.ndarray:
    """The sample matrix on the normalised axes (rows: runs)."""
    names = prob["names"]
    salib_problem = {"num_vars": len(names), "names": names, "bounds": prob["bounds"]}
    if method == "oat":
        h = oat_step(levels) / 2.0
        rows = [np.full(len(names), 0.5)]
        for i in range(len(names)):
            for s in (-h, h):
                r = np.full(len(names), 0.5)
                r[i] += s
                rows.append(r)
        return np.array(rows)
    morris_sample, _, sobol_sample, _ = _salib()
    if method == "morris":
        return morris_sample.sample(salib_problem, N=n, num_levels=levels, seed=seed)
    return sobol_sample.sample(salib_problem, N=n, calc_second_order=False, seed=seed)


def endpoints_at(metrics: Path, day: Optional[float]) -> Dict[str, float]:
    """Every integral and scalar column of a run's metrics.csv at `day` (default: last)."""
    with open(metrics, newline="") as f:
        rows = list(csv.reader(f))
    if len(rows) < 2:
        raise SensitivityError(f"{metrics}: no metrics rows")
    header, body = rows[0], rows[1:]
    t = header.index("time_days")
    if day is None:
        row = body[-1]
    else:
        match = [r for r in body if abs(float(r[t]) - day) < 1e-6]
        if not match:
            raise SensitivityError(
                f"{metrics}: no metrics row at day {day}; read at a day the runs write"
            )
        row = match[0]
    skip = ("step", "time_min", "time_days")
    return {
        h: float(v)
        for h, v in zip(header, row)
        if h not in skip and not h.endswith(("_mean", "_min", "_max"))
    }


def analyse(design: dict, u: np.ndarray, outputs: Dict[str, np.ndarray]) -> List[dict]:
    """Every index for every endpoint: rows of (endpoint, parameter, group, index values)."""
    names = design["problem"]["names"]
    groups = design["groups"]
    salib_problem = {
        "num_vars": len(names),
        "names": names,
        "bounds": design["problem"]["bounds"],
    }
    method, seed, levels = design["method"], design["seed"], design["levels"]
    rows = []
    for ep, y in outputs.items():
        if method == "oat":
            step = oat_step(levels)
            for i, n in enumerate(names):
                ee = (y[2 + 2 * i] - y[1 + 2 * i]) / step
                rows.append(
                    {"endpoint": ep, "parameter": n, "group": groups[n], "ee": ee,
                     "rank_by": abs(ee), "baseline": y[0]}
                )
            continue
        if method == "morris":
            _, morris_analyze, _, _ = _salib()
            r = morris_analyze.analyze(
                salib_problem, u, y, num_levels=levels, seed=seed, print_to_console=False
            )
            for i, n in enumerate(names):
                rows.append(
                    {"endpoint": ep, "parameter": n, "group": groups[n],
                     "mu": float(r["mu"][i]), "mu_star": float(r["mu_star"][i]),
                     "sigma": float(r["sigma"][i]),
                     "mu_star_conf": float(r["mu_star_conf"][i]),
                     "rank_by": float(r["mu_star"][i])}
                )
        else:
            _, _, _, sobol_analyze = _salib()
            if np.ptp(y) == 0.0:
                s1 = st = s1c = stc = np.zeros(len(names))
            else:
                r = sobol_analyze.analyze(
                    salib_problem, y, calc_second_order=False, seed=seed,
                    print_to_console=False,
                )
                s1, st, s1c, stc = r["S1"], r["ST"], r["S1_conf"], r["ST_conf"]
            for i, n in enumerate(names):
                rows.append(
                    {"endpoint": ep, "parameter": n, "group": groups[n],
                     "S1": float(s1[i]), "S1_conf": float(s1c[i]),
                     "ST": float(st[i]), "ST_conf": float(stc[i]), "rank_by": float(st[i])}
                )
    return rows


def _ordered_endpoints(eps: List[str]) -> List[str]:
    main = [e for e in MAIN_ENDPOINTS if e in eps]
    return main + sorted(e for e in eps if e not in main)


def relative_scores(rows: List[dict], endpoints: Sequence[str]) -> Dict[str, tuple]:
    """Per parameter, its largest and its summed index over `endpoints`, each endpoint's
    index divided by that endpoint's largest (so endpoints in different units weigh alike)."""
    score: Dict[str, tuple] = {}
    for ep in endpoints:
        sel = [r for r in rows if r["endpoint"] == ep]
        top = max((r["rank_by"] for r in sel), default=0.0)
        for r in sel:
            s = r["rank_by"] / top if top > 0 else 0.0
            best, total = score.get(r["parameter"], (0.0, 0.0))
            score[r["parameter"]] = (max(best, s), total + s)
    return score


def rank_parameters(rows: List[dict], endpoints: Sequence[str]) -> List[str]:
    """Parameters by their largest relative effect over `endpoints`; ties by the sum of
    their relative effects, then by name."""
    score = relative_scores(rows, endpoints)
    return sorted(score, key=lambda n: (-score[n][0], -score[n][1], n))


def ranking(folder: Path) -> List[str]:
    """The parameter ranking of a finished analysis folder (over its main endpoints)."""
    path = folder / "sensitivity.csv"
    if not path.is_file():
        raise SensitivityError(f"{folder}: no sensitivity.csv; run or --collect the analysis first")
    design = json.loads((folder / "design.json").read_text())
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    key = {"morris": "mu_star", "sobol": "ST", "oat": "ee"}[design["method"]]
    for r in rows:
        r["rank_by"] = abs(float(r[key]))
    eps = _ordered_endpoints(sorted({r["endpoint"] for r in rows}))
    main = [e for e in eps if e in MAIN_ENDPOINTS] or eps[:1]
    return rank_parameters(rows, main)


def _group_order(g: str) -> tuple:
    """Mechanisms M1..M19 in number order, then the other groups by name."""
    if g.startswith("M") and g[1:].isdigit():
        return (0, int(g[1:]), "")
    return (1, 0, g)


def _fmt(v: float) -> str:
    return f"{v:.4g}"


def markdown(design: dict, rows: List[dict], endpoints: List[str], per_endpoint: int) -> str:
    method = design["method"]
    cols = {
        "morris": [("mu_star", "μ*"), ("mu", "μ"), ("sigma", "σ"), ("mu_star_conf", "μ* 95 % conf.")],
        "sobol": [("ST", "S_T"), ("ST_conf", "S_T conf."), ("S1", "S_1"), ("S1_conf", "S_1 conf.")],
        "oat": [("ee", "effect"), ("baseline", "endpoint at the defaults")],
    }[method]
    out = [
        f"# Sensitivity of `{design['preset_name']}` ({method})",
        "",
        f"{len(design['problem']['names'])} parameters, each over [d/{design['range']}, "
        f"d*{design['range']}] (log-uniform); {design['runs']} runs at "
        f"{design['resolution'] or 'the preset'}^3 voxels, seed {design['seed']}, endpoints at "
        f"{'day ' + str(design['day']) if design['day'] is not None else 'the last day'}. Indices are per unit of the normalised log range "
        "(0: d/F, 1: d*F) in the endpoint's unit.",
        "",
        "## Ranking over the main endpoints",
        "",
        "Each parameter's largest index over "
        + ", ".join(f"`{e}`" for e in endpoints if e in MAIN_ENDPOINTS)
        + ", each relative to that endpoint's largest:",
        "",
        "| rank | parameter | mechanism | score |",
        "|---|---|---|---|",
    ]
    main = [e for e in endpoints if e in MAIN_ENDPOINTS] or endpoints[:1]
    order = rank_parameters(rows, main)
    score = relative_scores(rows, main)
    for i, n in enumerate(order, 1):
        out.append(f"| {i} | {n} | {design['groups'][n]} | {score[n][0]:.3f} |")
    out += ["", "## By mechanism", "",
            "Sum of the indices of each mechanism's parameters, relative to the endpoint's largest sum:", ""]
    groups = sorted(set(design["groups"][n] for n in design["problem"]["names"]), key=_group_order)
    out.append("| endpoint | " + " | ".join(groups) + " |")
    out.append("|---|" + "---|" * len(groups))
    for ep in main:
        sums = {g: sum(r["rank_by"] for r in rows if r["endpoint"] == ep and r["group"] == g) for g in groups}
        top = max(sums.values()) or 1.0
        out.append(f"| {ep} | " + " | ".join(f"{sums[g] / top:.2f}" for g in groups) + " |")
    unchanged = [e for e in endpoints if all(r["rank_by"] == 0 for r in rows if r["endpoint"] == e)]
    if unchanged:
        out += ["", "Unchanged in every run: " + ", ".join(f"`{e}`" for e in unchanged) + "."]
    for ep in endpoints:
        if ep in unchanged:
            continue
        sel = sorted((r for r in rows if r["endpoint"] == ep), key=lambda r: (-r["rank_by"], r["parameter"]))
        out += ["", f"## {ep}", "", "| parameter | mechanism | " + " | ".join(c[1] for c in cols) + " |",
                "|---|---|" + "---|" * len(cols)]
        for r in sel[:per_endpoint]:
            out.append(f"| {r['parameter']} | {r['group']} | " + " | ".join(_fmt(r[c[0]]) for c in cols) + " |")
    return "\n".join(out) + "\n"


def plot(design: dict, rows: List[dict], endpoints: List[str], path: Path, top: int = 20) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    main = [e for e in endpoints if e in MAIN_ENDPOINTS] or endpoints[:1]
    shown = endpoints[: max(len(main), min(len(endpoints), 12))]
    order = rank_parameters(rows, main)[:top]
    m = np.zeros((len(order), len(shown)))
    for j, ep in enumerate(shown):
        sel = {r["parameter"]: r["rank_by"] for r in rows if r["endpoint"] == ep}
        t = max(sel.values(), default=0.0)
        for i, n in enumerate(order):
            m[i, j] = sel.get(n, 0.0) / t if t > 0 else 0.0
    index = {"morris": "μ*", "sobol": "S_T", "oat": "|effect|"}[design["method"]]
    fig, ax = plt.subplots(figsize=(1.0 + 0.75 * len(shown), 1.6 + 0.32 * len(order)))
    im = ax.imshow(m, cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
    ax.set_xticks(range(len(shown)))
    ax.set_xticklabels([e.replace("_integral", "") for e in shown], rotation=45, ha="right")
    ax.set_yticks(range(len(order)))
    ax.set_yticklabels([f"{n} ({design['groups'][n]})" for n in order])
    ax.set_title(f"{design['preset_name']}: {design['method']} {index} / largest per endpoint")
    fig.colorbar(im, ax=ax, label=f"relative {index}")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _csv_text(rows: List[List[str]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def prepare(args) -> dict:
    """Checks the options, writes design.json and samples.csv; returns the design."""
    preset = Path(args.preset).resolve()
    if not preset.is_file():
        raise SensitivityError(f"{args.preset}: no such preset file")
    if args.method not in METHODS:
        raise SensitivityError(f"--method {args.method}: one of {', '.join(METHODS)}")
    if not (args.range > 1.0 and math.isfinite(args.range)):
        raise SensitivityError(f"--range {args.range}: a factor above 1 (2: from d/2 to 2d)")
    if args.levels < 2 or args.levels % 2:
        raise SensitivityError(f"--levels {args.levels}: an even number, at least 2")
    if args.samples < 1:
        raise SensitivityError(f"--samples {args.samples}: at least 1")
    params = parameters_of(preset)
    names = choose_parameters(args.params, params, None)
    prob = problem(names, params, args.range)
    u = sample(args.method, prob, args.samples, args.levels, args.seed)
    values = to_values(prob, u)
    out = Path(args.out)
    if out.exists() and any(out.iterdir()) and not args.overwrite:
        raise SensitivityError(f"--out {out}: already holds files; choose another or pass --overwrite")
    out.mkdir(parents=True, exist_ok=True)
    name = preset.stem
    design = {
        "preset": str(preset),
        "preset_name": name,
        "method": args.method,
        "samples": args.samples,
        "levels": args.levels,
        "range": args.range,
        "seed": args.seed,
        "day": args.day,
        "days": args.days,
        "resolution": args.resolution,
        "backend": args.backend,
        "runs": int(len(u)),
        "problem": {k: prob[k] for k in ("num_vars", "names", "bounds", "values", "factor")},
        "groups": {n: params[n]["group"] or "" for n in names},
        "units": {n: params[n]["unit"] for n in names},
        "sources": {n: params[n]["source"] for n in names},
        "salib": _salib_version(args.method),
    }
    _write(out / "design.json", json.dumps(design, indent=2) + "\n")
    rows = [names] + [[repr(float(v)) for v in row] for row in values]
    _write(out / "samples.csv", _csv_text(rows))
    np.savetxt(out / "unit_samples.txt", u, fmt="%.17g")
    return design


def _salib_version(method: str) -> Optional[str]:
    if method == "oat":
        return None
    _salib()
    from importlib.metadata import version

    return version("SALib")


def run_sweep(args, design: dict) -> bool:
    """Runs (or, with --emit slurm, writes) the sweep; True when the runs are done."""
    out = Path(args.out)
    cmd = ["sweep", design["preset"], "--samples", str(out / "samples.csv"),
           "--out", str(out / "sweep"), "--backend", design["backend"], "--jobs", str(args.jobs)]
    if args.overwrite:
        cmd.append("--overwrite")
    if design["resolution"]:
        cmd += ["--resolution", str(design["resolution"])]
    if design["days"]:
        cmd += ["--days", str(design["days"])]
    if args.emit:
        cmd += ["--emit", args.emit]
    _osteoniche(cmd)
    return not args.emit


def collect(out: Path, per_endpoint: int = 20) -> List[dict]:
    """Reads the finished sweep of a sensitivity folder, analyses it and writes the tables
    and plot; returns the index rows."""
    design_path = out / "design.json"
    if not design_path.is_file():
        raise SensitivityError(f"{out}: no design.json; not an `osteoniche sensitivity` folder")
    design = json.loads(design_path.read_text())
    u = np.loadtxt(out / "unit_samples.txt", ndmin=2)
    runs = out / "sweep" / "runs"
    per_run = []
    missing = []
    for i in range(len(u)):
        m = runs / f"v{i:04d}" / "metrics.csv"
        if not _finished(runs / f"v{i:04d}"):
            missing.append(f"v{i:04d}")
            continue
        per_run.append(endpoints_at(m, design["day"]))
    if missing:
        raise SensitivityError(
            f"{out}: {len(missing)} of {len(u)} runs have not finished ({', '.join(missing[:5])}"
            + (", ..." if len(missing) > 5 else "") + "); every run is needed for the indices"
        )
    endpoints = _ordered_endpoints(list(per_run[0]))
    outputs = {e: np.array([r[e] for r in per_run]) for e in endpoints}
    table = [["run", *endpoints]] + [
        [f"v{i:04d}", *(repr(r[e]) for e in endpoints)] for i, r in enumerate(per_run)
    ]
    _write(out / "outputs.csv", _csv_text(table))
    rows = analyse(design, u, outputs)
    keys = [k for k in rows[0] if k not in ("rank_by",)]
    _write(out / "sensitivity.csv", _csv_text([keys] + [[
        r[k] if isinstance(r[k], str) else repr(float(r[k])) for k in keys] for r in rows]))
    _write(out / "sensitivity.md", markdown(design, rows, endpoints, per_endpoint))
    plot(design, rows, endpoints, out / "sensitivity.png")
    return rows


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(
        prog="osteoniche sensitivity",
        description="Morris or Sobol' sensitivity of a preset's endpoints to its model "
        "parameters (SALib), run through `osteoniche sweep`.",
    )
    ap.add_argument("preset", nargs="?", help="the preset")
    ap.add_argument("--params", help="a,b,c or `assumptions` (every assumed, non-zero parameter)")
    ap.add_argument("--method", default="morris", help="morris, sobol or oat (default morris)")
    ap.add_argument("--samples", type=int, default=10,
                    help="Morris trajectories r, or Sobol' base samples N (a power of 2); runs: "
                    "r (k + 1), N (k + 2), or 2k + 1 for oat")
    ap.add_argument("--levels", type=int, default=4, help="Morris grid levels p (even; default 4)")
    ap.add_argument("--range", type=float, default=2.0, help="each parameter over [d/F, d*F]")
    ap.add_argument("--seed", type=int, default=1, help="sampling and bootstrap seed")
    ap.add_argument("--day", type=float, help="day the endpoints are read at (default: last)")
    ap.add_argument("--days", type=float, help="simulated days of every run")
    ap.add_argument("--resolution", type=int, help="voxels on the longest axis of every run")
    ap.add_argument("--backend", default="auto", choices=["auto", "gpu", "cpu"])
    ap.add_argument("--jobs", type=int, default=1, help="runs at once when running locally")
    ap.add_argument("--emit", choices=["slurm"], help="write a Slurm job array instead of running")
    ap.add_argument("--out", help="output folder")
    ap.add_argument("--overwrite", action="store_true", help="write into a folder with files")
    ap.add_argument("--collect", help="analyse the finished runs of this sensitivity folder")
    ap.add_argument("--top", type=int, default=20, help="rows per endpoint in sensitivity.md")
    args = ap.parse_args(argv)
    try:
        if args.collect:
            if args.preset or args.params:
                raise SensitivityError("--collect takes only the folder")
            collect(Path(args.collect), args.top)
            print((Path(args.collect) / "sensitivity.md").read_text())
            return 0
        if not args.preset or not args.params or not args.out:
            raise SensitivityError("give PRESET, --params and --out (or --collect DIR)")
        design = prepare(args)
        print(f"{design['runs']} runs of {design['preset_name']} ({design['method']}, "
              f"{design['problem']['num_vars']} parameters)", flush=True)
        if run_sweep(args, design):
            collect(Path(args.out), args.top)
            print((Path(args.out) / "sensitivity.md").read_text())
        else:
            print(f"when the array has finished: osteoniche sensitivity --collect {args.out}")
        return 0
    except SensitivityError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
