"""The two worked examples run on a coarse grid and write their figure (a real PNG of the
size matplotlib was asked for) and, for the screening, its table."""

import csv
import subprocess
import sys

from conftest import REPO

EXAMPLES = REPO / "examples" / "python"


def png_size(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def run(script, *args):
    out = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *map(str, args)],
        capture_output=True, text=True, timeout=600,
    )
    assert out.returncode == 0, out.stderr + out.stdout
    return out.stdout


def test_morris_screening_writes_its_bar_chart(tmp_path):
    png = tmp_path / "morris.png"
    run("morris_screening.py", "--resolution", 8, "--days", 2, "--trajectories", 2, "--out", png)
    assert png_size(png) == (840, 480)
    rows = list(csv.DictReader((tmp_path / "morris.csv").open()))
    assert len(rows) == 6
    # On any grid the growth rate dominates a short run's tumour volume.
    assert rows[0]["parameter"] == "tumour_growth"
    assert all(float(r["mu_star_mm3"]) >= 0 for r in rows)


def test_the_fit_recovers_the_growth_rate(tmp_path):
    png = tmp_path / "fit.png"
    out = run("fit_tumour_growth.py", "--resolution", 8, "--days", 3, "--out", png)
    assert png_size(png) == (720, 480)
    assert "fitted tumour_growth = 0.55" in out
