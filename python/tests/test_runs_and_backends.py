"""load_runs over a compare folder (the endpoints are compare's own), and the GPU backend
from Python: it agrees with the CPU, and no adapter is a BackendError."""

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import osteoniche as on
from conftest import BASE, PRESETS

RES = 8


def test_load_runs_reads_every_arm_of_a_compare(tmp_path, cli):
    out = tmp_path / "cmp"
    docetaxel = PRESETS / "therapy" / "breast-docetaxel.toml"
    cli("compare", BASE, docetaxel, "--days", 0.5, "--resolution", RES, "--backend", "cpu",
        "--out", out)
    runs = on.load_runs(out)
    assert list(runs) == ["breast-docetaxel", "breast-osteolytic"]
    table = pd.read_csv(out / "endpoints.csv").set_index("run")
    for name, run in runs.items():
        assert run.summary["preset"]["name"] == name
        for key, e in run.endpoints.items():
            if key in table.columns and np.isfinite(e["value"]):
                assert table.loc[name, key] == pytest.approx(e["value"], rel=1e-9), (name, key)
    with pytest.raises(on.InvalidError, match="load_runs"):
        on.load_run(out)
    with pytest.raises(on.InvalidError, match="no finished runs"):
        on.load_runs(tmp_path)


def gpu_or_skip():
    try:
        return on.Simulation(BASE, resolution=RES, backend="gpu")
    except on.BackendError as e:
        if os.environ.get("OSTEONICHE_REQUIRE_GPU") == "1":
            raise
        pytest.skip(f"SKIPPED: no GPU adapter here ({e})")


def test_the_gpu_backend_agrees_with_the_cpu():
    gpu = gpu_or_skip()
    cpu = on.Simulation(BASE, resolution=RES, backend="cpu")
    assert gpu.info["backend"]["kind"] == "gpu" and gpu.info["backend"]["device"]
    gpu.run(days=0.5)
    cpu.run(days=0.5)
    for name in ("tumour", "pthrp", "bone"):
        a, b = gpu.field(name), cpu.field(name)
        scale = max(float(np.abs(b).max()), 1e-30)
        assert float(np.abs(a - b).max()) <= 1e-4 * scale, name


def test_no_adapter_is_a_backend_error():
    # No adapter of a backend this platform lacks (DX12 on Linux; on Windows, Metal).
    absent = "metal" if sys.platform == "win32" else "dx12"
    code = (
        "import osteoniche as on\n"
        "try:\n"
        f"    on.Simulation({str(BASE)!r}, resolution=8, backend='gpu')\n"
        "except on.BackendError as e:\n"
        "    assert isinstance(e, RuntimeError)\n"
        "    print('refused:', e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "WGPU_BACKEND": absent})
    assert out.returncode == 0, out.stderr
    assert "refused: GPU: no GPU adapter found" in out.stdout
