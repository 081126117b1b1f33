"""The Python module against the command line: same metrics bytes, same fields as the .vti
snapshots, a Python dose equal to a scheduled one, checkpoints that resume, the GIL
released while stepping, and every refusal as a documented exception."""

import threading

import numpy as np
import pandas as pd
import pytest

import osteoniche as on
from conftest import BASE, THERAPY, therapy_preset

RES = 10


def test_metrics_are_the_bytes_of_the_cli_run(tmp_path, cli):
    out = tmp_path / "run"
    cli("run", BASE, "--days", 1, "--resolution", RES, "--backend", "cpu", "--seed", 5,
        "--quiet", "--out", out)
    sim = on.Simulation(BASE, resolution=RES, backend="cpu", seed=5)
    sim.run(days=1)
    assert sim.metrics_csv().encode() == (out / "metrics.csv").read_bytes()
    frame = sim.metrics()
    assert isinstance(frame, pd.DataFrame)
    pd.testing.assert_frame_equal(frame, on.load_run(out).metrics)
    assert list(frame["time_days"]) == [0.0, 0.5, 1.0]


def test_field_equals_the_snapshot_at_the_same_step(tmp_path, cli):
    out = tmp_path / "run"
    cli("run", BASE, "--days", 0.5, "--resolution", RES, "--backend", "cpu", "--quiet",
        "--out", out)
    run = on.load_run(out)
    assert run.snapshot_times[0] == 0.0 and run.snapshot_times[-1] == pytest.approx(0.5)
    snap = run.snapshot(-1)
    sim = on.Simulation(BASE, resolution=RES, backend="cpu")
    sim.run(days=0.5)
    assert set(snap) == set(sim.field_names)
    fields = sim.fields()
    for name in sim.field_names:
        f = sim.field(name)
        assert f.shape == sim.shape == snap[name].shape and f.dtype == np.float32
        assert np.array_equal(f, snap[name]), name
        assert np.array_equal(fields[name], f), name
    # field() is a copy: writing to it leaves the simulation alone.
    f = sim.field("tumour")
    f[:] = 7.0
    assert not np.array_equal(sim.field("tumour"), f)


def test_load_run_reads_summary_doses_and_the_compare_endpoints(tmp_path, cli):
    out = tmp_path / "therapy"
    cli("run", THERAPY, "--days", 1.5, "--resolution", RES, "--backend", "cpu", "--quiet",
        "--out", out)
    run = on.load_run(out)
    assert run.summary["grid"]["nx"] == RES
    assert list(run.doses["drug"]) == ["denosumab"]
    assert run.doses["time_days"].iloc[0] == pytest.approx(1.0)
    ends = run.endpoints
    assert "tumour_change_pct" in ends and np.isfinite(ends["tumour_change_pct"]["value"])
    # The same numbers `compare --collect` tabulates for the folder.
    table = tmp_path / "collected"
    cli("compare", "--collect", out, "--out", table)
    collected = pd.read_csv(table / "endpoints.csv")
    row = collected.iloc[0]
    for key, e in ends.items():
        if key in collected.columns and np.isfinite(e["value"]):
            assert row[key] == pytest.approx(e["value"], rel=1e-5), key


def test_a_python_dose_equals_the_same_dose_in_a_preset(tmp_path):
    dose = '[[dose]]\ndrug = "docetaxel_nc_bone"\nroute = "iv-bolus"\nmg_per_kg = 10.0\nstart = "6 h"\n'
    scheduled = on.Simulation(therapy_preset(tmp_path, dose, "a"), resolution=RES, backend="cpu")
    scheduled.run(days=0.5)
    live = on.Simulation(therapy_preset(tmp_path, "", "b"), resolution=RES, backend="cpu")
    live.run(days=0.25)
    given = live.dose("docetaxel_nc_bone", "iv-bolus", mg_per_kg=10)
    assert given["time_h"] == 6.0 and given["origin"] == "real-time"
    live.run(days=0.25)
    later = on.Simulation(therapy_preset(tmp_path, "", "c"), resolution=RES, backend="cpu")
    later.schedule("docetaxel_nc_bone", "iv-bolus", at_h=6, mg_per_kg=10)
    later.run(days=0.5)
    a = scheduled.fields()
    for other in (live, later):
        b = other.fields()
        assert all(np.array_equal(a[k], b[k]) for k in a)
        assert other.metrics_csv() == scheduled.metrics_csv()
        (d1,), (d2,) = scheduled.doses(), other.doses()
        assert {**d1, "origin": ""} == {**d2, "origin": ""}


def test_checkpoint_resume_continues_bit_for_bit(tmp_path, cli):
    whole = on.Simulation(THERAPY, resolution=RES, backend="cpu")
    whole.run(days=1.5)
    half = on.Simulation(THERAPY, resolution=RES, backend="cpu")
    half.run(days=0.75)
    ck = tmp_path / "state.osck"
    half.checkpoint(ck)
    resumed = on.Simulation.resume(ck)
    assert resumed.step_index == half.step_index
    resumed.run(days=0.75)
    a, b = whole.fields(), resumed.fields()
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert resumed.metrics_csv() == whole.metrics_csv()
    assert resumed.doses() == whole.doses()
    # The command line resumes the Python checkpoint too.
    out = cli("resume", ck, "--out", tmp_path / "cli", "--quiet")
    assert "resuming at step 18" in out.stdout


def test_the_gil_is_released_while_stepping():
    sim = on.Simulation(BASE, resolution=16, backend="cpu")
    ticks = [0]
    stop = threading.Event()

    def count():
        while not stop.is_set():
            ticks[0] += 1

    t = threading.Thread(target=count)
    t.start()
    try:
        before = ticks[0]
        sim.run(days=2)
        during = ticks[0] - before
    finally:
        stop.set()
        t.join()
    assert during > 10_000, f"the counting thread advanced {during} times while run() stepped"


def test_info_names_the_backend_and_the_grid():
    sim = on.Simulation(BASE, resolution=RES, backend="cpu", seed=9)
    info = sim.info
    assert info["backend"]["kind"] == "cpu" and info["seed"] == 9
    assert (info["grid"]["nz"], info["grid"]["ny"], info["grid"]["nx"]) == sim.shape
    assert sim.time_days == 0.0 and sim.step_index == 0
    assert "tumour" in sim.field_names


def test_set_and_mechanisms_change_the_model():
    base = on.Simulation(BASE, resolution=RES, backend="cpu")
    fast = on.Simulation(BASE, resolution=RES, backend="cpu", set={"tumour_growth": 0.8})
    off = on.Simulation(BASE, resolution=RES, backend="cpu", mechanisms={"M1": False})
    for s in (base, fast, off):
        s.run(days=1)
    t = lambda s: s.field("tumour").sum()  # noqa: E731
    assert t(fast) > t(base)
    assert not np.array_equal(off.field("pthrp"), base.field("pthrp"))


def test_metrics_without_pandas_are_numpy_columns(monkeypatch):
    import builtins

    real = builtins.__import__

    def no_pandas(name, *a, **k):
        if name == "pandas":
            raise ImportError("no pandas here")
        return real(name, *a, **k)

    sim = on.Simulation(BASE, resolution=RES, backend="cpu")
    sim.run(days=0.5)
    monkeypatch.setattr(builtins, "__import__", no_pandas)
    cols = sim.metrics()
    assert isinstance(cols, dict)
    assert cols["time_days"].dtype == np.float64 and list(cols["time_days"]) == [0.0, 0.5]


def test_reading_a_simulation_while_another_thread_steps_it_waits_and_returns():
    sim = on.Simulation(BASE, resolution=16, backend="cpu")
    errors = []

    def stepper():
        try:
            sim.run(days=1)
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    t = threading.Thread(target=stepper)
    t.start()
    seen = [sim.time_days for _ in range(20)]
    shape = sim.field("tumour").shape
    t.join(timeout=120)
    assert not t.is_alive() and not errors, errors
    assert shape == sim.shape
    assert all(0.0 <= d <= 1.0 for d in seen) and seen == sorted(seen)
    assert sim.time_days == pytest.approx(1.0)
    # A refusal raised while another thread holds the simulation does not deadlock.
    t = threading.Thread(target=lambda: sim.run(days=0.5))
    t.start()
    with pytest.raises(on.InvalidError):
        sim.field("nope")
    t.join(timeout=120)
    assert not t.is_alive()


def test_a_field_reaches_numpy_in_one_copy():
    sim = on.Simulation(BASE, resolution=8, backend="cpu")
    a = sim.field("tumour")
    # The library's values were written straight into the array's own memory: it owns its
    # data, views nothing (no bytearray or bytes object behind it) and is contiguous.
    assert a.flags.owndata and a.base is None and a.flags.c_contiguous
    assert a.flags.writeable and a.dtype == np.float32 and a.shape == sim.shape
    all_fields = sim.fields()
    assert np.shares_memory(all_fields["tumour"], all_fields["bone"]) is False
    # Every field is a view of one array that owns the one copy of all of them.
    whole = all_fields["tumour"].base
    assert whole is all_fields["bone"].base and whole.flags.owndata and whole.base is None
    assert whole.shape == (len(sim.field_names),) + tuple(sim.shape)
    assert (all_fields["tumour"] == a).all()


def test_an_interrupted_run_folder_loads_and_says_so(tmp_path):
    import os
    import signal
    import subprocess
    import time

    from conftest import REPO

    exe = os.environ.get("OSTEONICHE_BIN", str(REPO / "target" / "release" / "osteoniche"))
    out = tmp_path / "run"
    p = subprocess.Popen(
        [exe, "run", str(BASE), "--resolution", "12", "--days", "20", "--backend", "cpu",
         "--quiet", "--checkpoint-every", "1 d", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.time() + 120
    while not (out / "checkpoint.osck").exists():
        assert time.time() < deadline and p.poll() is None, p.communicate()
        time.sleep(0.002)
    p.send_signal(signal.SIGINT)
    stdout, stderr = p.communicate(timeout=120)
    assert p.returncode == 130, stderr
    run = on.load_run(out)
    assert run.summary["status"] == "interrupted"
    assert run.metrics["step"].iloc[-1] == run.summary["step_reached"]
    assert "osteoniche resume" in run.summary["resume_command"]
    sim = on.Simulation.resume(out / "checkpoint.osck")
    assert sim.step_index == run.summary["step_reached"]


def test_a_grid_too_coarse_for_the_lattice_warns_and_says_so_in_info():
    with pytest.warns(RuntimeWarning, match="does not resolve the lattice") as caught:
        sim = on.Simulation(BASE, resolution=8, backend="cpu")
    # Pointed at the caller's line, not at the package.
    assert caught[0].filename == __file__
    message = sim.info["lattice_warning"]
    assert "voxels across" in message and "--resolution 96" in message
