"""osteoniche from Python: run, dose and read the bone-metastasis simulator.

``Simulation`` drives the library (the same engine, presets, checks and metrics as
``osteoniche run``); ``load_run`` reads a finished run folder of ``run``, ``compare`` or
``sweep``. Fields come back as NumPy arrays shaped (z, y, x), metrics as a pandas
DataFrame when pandas is installed (else a dict of NumPy columns).

Units: time in simulated days (``time_days``, ``run(days=)``) or hours (dose times),
lengths in micrometres, amounts in mg or mg/kg, volumes in microlitres, concentrations as
the preset's fields define them (see docs/python.md).
"""

from __future__ import annotations

import csv
import io
import json
import os
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

import numpy as np


def _quiet_headless_probing() -> None:
    # Without a display session, Mesa's device-select Vulkan layer prints
    # "error: XDG_RUNTIME_DIR is invalid or not set" while adapters are listed, for
    # nothing; the command line switches the layer off the same way (gpu::context).
    def is_set(k: str) -> bool:
        return bool(os.environ.get(k))

    session = is_set("XDG_RUNTIME_DIR") and (is_set("WAYLAND_DISPLAY") or is_set("DISPLAY"))
    chosen = any(k in os.environ for k in ("NODEVICE_SELECT", "MESA_VK_DEVICE_SELECT", "DRI_PRIME"))
    if not session and not chosen:
        os.environ["NODEVICE_SELECT"] = "1"


_quiet_headless_probing()

from . import _native  # noqa: E402
from ._errors import (  # noqa: E402
    BackendError,
    CheckpointError,
    Error,
    FileError,
    InvalidError,
    NumericalError,
    PresetError,
    ResourceError,
)

__version__ = _native.__version__

__all__ = [
    "Simulation",
    "Run",
    "load_run",
    "load_runs",
    "Error",
    "PresetError",
    "InvalidError",
    "CheckpointError",
    "FileError",
    "ResourceError",
    "BackendError",
    "NumericalError",
]

PathLike = Union[str, "os.PathLike[str]"]


def _table(text: str) -> Any:
    """A CSV text as a pandas DataFrame, or a dict of columns without pandas (numbers as
    float64 arrays, anything else as lists of str)."""
    try:
        import pandas as pd
    except ImportError:
        pd = None
    if pd is not None:
        return pd.read_csv(io.StringIO(text))
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        return {}
    header, body = rows[0], rows[1:]
    out: Dict[str, Any] = {}
    for i, name in enumerate(header):
        cells = [r[i] for r in body]
        try:
            out[name] = np.array([float(c) for c in cells], dtype=np.float64)
        except ValueError:
            out[name] = cells
    return out


def _warn_lattice(sim: Any) -> None:
    # A grid that does not resolve the lattice's trabeculae undercounts the bone surface:
    # said as `run` says it on stderr (docs/lattice.md), and kept in `info`.
    message = sim.info().get("lattice_warning")
    if message:
        warnings.warn(message, RuntimeWarning, stacklevel=3)


class Simulation:
    """One simulation of a preset, stepped from Python.

    ``Simulation(preset, *, resolution=None, backend="auto", seed=None, set=None,
    mechanisms=None)`` loads the preset file as ``osteoniche run`` does: ``resolution`` is
    the number of voxels on the longest axis (the physical box is kept), ``backend`` is
    ``"auto"`` (a hardware GPU if there is one, else the CPU), ``"gpu"`` (software adapters
    too) or ``"cpu"``, ``seed`` overrides the preset's, ``set`` maps model parameters to
    values in the model file's units (``{"tumour_growth": 0.3}``), ``mechanisms`` maps
    mechanism ids to on/off (``{"M14": False}``). Every refusal raises a subclass of
    ``osteoniche.Error`` with the command line's message.

    The backend works with the GIL released: other Python threads run meanwhile.
    """

    def __init__(
        self,
        preset: PathLike,
        *,
        resolution: Optional[int] = None,
        backend: str = "auto",
        seed: Optional[int] = None,
        set: Optional[Mapping[str, float]] = None,
        mechanisms: Optional[Mapping[str, bool]] = None,
    ) -> None:
        self._sim = _native.Simulation(
            os.fspath(preset),
            resolution=resolution,
            backend=backend,
            seed=seed,
            set=[(str(k), float(v)) for k, v in (set or {}).items()],
            mechanisms=[(str(k), bool(v)) for k, v in (mechanisms or {}).items()],
        )
        _warn_lattice(self._sim)

    @classmethod
    def resume(cls, path: PathLike, *, backend: Optional[str] = None) -> "Simulation":
        """The simulation saved in a checkpoint (``checkpoint()`` or ``run
        --checkpoint-every``), at its step, with its metrics so far; ``backend`` defaults
        to the one it ran on. A corrupt or mismatched file raises ``CheckpointError``."""
        self = cls.__new__(cls)
        self._sim = _native.Simulation.resume(os.fspath(path), backend=backend)
        _warn_lattice(self._sim)
        return self

    def step(self, n: int = 1) -> None:
        """Takes ``n`` time steps (metrics are sampled as ``run`` samples them)."""
        if int(n) != n or n < 0:
            raise InvalidError(f"step({n!r}): the number of steps must be a whole number >= 0")
        self._sim.step(int(n))

    def run(self, days: float) -> int:
        """Steps for ``days`` simulated days (rounded to whole steps); returns the steps
        taken."""
        return self._sim.run_days(float(days))

    def run_to_end(self) -> int:
        """Steps to the end of the preset's duration (what ``osteoniche run`` runs);
        returns the steps taken."""
        n = max(0, self._sim.end_step - self._sim.step_index)
        self._sim.step(n)
        return n

    @property
    def step_index(self) -> int:
        """Steps taken since the start of the run."""
        return self._sim.step_index

    @property
    def time_days(self) -> float:
        """Simulated time, days."""
        return self._sim.time_days

    @property
    def end_step(self) -> int:
        """The step at which the preset's duration ends."""
        return self._sim.end_step

    @property
    def field_names(self) -> List[str]:
        """Names of the fields, in the order of metrics.csv and the .vti files."""
        return self._sim.field_names

    @property
    def shape(self) -> tuple:
        """Grid shape (nz, ny, nx)."""
        return self._sim.shape

    @property
    def info(self) -> Dict[str, Any]:
        """The backend (kind, device, driver, software), why it was chosen, the grid (voxel
        counts, dx_um), dt_min, end_step, seed, version, and ``lattice_warning`` (what a
        grid too coarse for the lattice's trabeculae does to the bone surface, or None; the
        same text is given as a RuntimeWarning when the simulation is made)."""
        return self._sim.info()

    def field(self, name: str) -> np.ndarray:
        """A copy of field ``name`` as a float32 array shaped (z, y, x); changing it does
        not change the simulation."""
        return self._sim.field_array(name)

    def fields(self) -> Dict[str, np.ndarray]:
        """Every field, read in one go: name -> float32 array (z, y, x). The arrays are
        views of one copy (shaped field, z, y, x)."""
        names = self.field_names
        allf = self._sim.fields_array()
        return {n: allf[i] for i, n in enumerate(names)}

    def metrics(self) -> Any:
        """The metrics so far, the rows and columns of ``run``'s metrics.csv: a pandas
        DataFrame, or a dict of NumPy columns without pandas."""
        return _table(self._sim.metrics_csv())

    def metrics_csv(self) -> str:
        """The metrics so far as the text of ``run``'s metrics.csv."""
        return self._sim.metrics_csv()

    def doses(self) -> List[Dict[str, Any]]:
        """Every dose given so far (time_h, origin, the dose as asked, mg, nmol)."""
        return self._sim.doses()

    def dose(
        self,
        drug: str,
        route: str,
        *,
        mg_per_kg: Optional[float] = None,
        mg: Optional[float] = None,
        hours: Optional[float] = None,
        point_um: Optional[Sequence[float]] = None,
        volume_ul: Optional[float] = None,
    ) -> Dict[str, Any]:
        """Gives a dose now, through the checks of the viewer's dosing panel. ``route`` is
        ``iv-bolus``, ``iv-infusion`` (with ``hours``), ``subcutaneous``, ``oral`` or
        ``local`` (with ``point_um`` = (x, y, z) in micrometres and ``volume_ul`` in
        microlitres); give ``mg_per_kg`` or ``mg``. A refused dose changes nothing and
        raises ``InvalidError``. Returns what was given (mg, nmol, time_h)."""
        return self._sim.dose(
            drug,
            route,
            mg_per_kg=mg_per_kg,
            mg=mg,
            hours=hours,
            point_um=None if point_um is None else [float(v) for v in point_um],
            volume_ul=volume_ul,
        )

    def schedule(
        self,
        drug: str,
        route: str,
        *,
        at_h: float,
        every_h: Optional[float] = None,
        count: int = 1,
        mg_per_kg: Optional[float] = None,
        mg: Optional[float] = None,
        hours: Optional[float] = None,
        point_um: Optional[Sequence[float]] = None,
        volume_ul: Optional[float] = None,
    ) -> None:
        """Schedules ``count`` doses, the first ``at_h`` simulated hours after the run's
        start (not before now), then every ``every_h`` hours, as a preset's ``[[dose]]``
        (``start``, ``every``, ``count``) does."""
        self._sim.schedule(
            drug,
            route,
            at_h=float(at_h),
            every_h=every_h,
            count=int(count),
            mg_per_kg=mg_per_kg,
            mg=mg,
            hours=hours,
            point_um=None if point_um is None else [float(v) for v in point_um],
            volume_ul=volume_ul,
        )

    def checkpoint(self, path: PathLike) -> None:
        """Writes a checkpoint (atomically) that ``Simulation.resume`` and ``osteoniche
        resume`` continue from."""
        self._sim.checkpoint(os.fspath(path))

    def __repr__(self) -> str:
        i = self.info
        return (
            f"<osteoniche.Simulation {i['preset']} {self.shape[::-1]} on {i['backend']['kind']}"
            f" at day {self.time_days:.3f}>"
        )


class Run:
    """A finished run folder (``load_run``): ``metrics``, ``summary``, ``doses``,
    ``snapshot_times``, ``snapshot(i)``, ``endpoints``."""

    def __init__(self, folder: PathLike) -> None:
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise FileError(f"{self.folder}: no such run folder")
        summary = self.folder / "summary.json"
        try:
            self.summary: Dict[str, Any] = json.loads(summary.read_text())
        except FileNotFoundError:
            arms = _arms(self.folder)
            if arms:
                raise InvalidError(
                    f"{self.folder}: a compare or sweep folder holding the runs "
                    f"{', '.join(arms)}; load them with load_runs()"
                ) from None
            raise InvalidError(
                f"{self.folder}: no finished run here (no summary.json); a run writes it when it ends"
            ) from None
        except json.JSONDecodeError as e:
            raise InvalidError(f"{summary}: {e}") from None
        metrics = self.folder / "metrics.csv"
        try:
            self.metrics = _table(metrics.read_text())
        except FileNotFoundError:
            raise FileError(f"{metrics}: missing") from None
        doses = self.folder / "doses.csv"
        self.doses = _table(doses.read_text()) if doses.exists() else _table("time_days,drug\n")
        self._snapshots = self._read_pvd()

    def _read_pvd(self) -> List[tuple]:
        pvd = self.folder / "snapshots.pvd"
        if not pvd.exists():
            return []
        try:
            root = ET.parse(pvd).getroot()
        except ET.ParseError as e:
            raise InvalidError(f"{pvd}: {e}") from None
        out = []
        for ds in root.iter("DataSet"):
            out.append((float(ds.get("timestep", "nan")), self.folder / ds.get("file", "")))
        return out

    @property
    def snapshot_times(self) -> List[float]:
        """Simulated days of the snapshots (snapshots.pvd)."""
        return [t for t, _ in self._snapshots]

    def snapshot(self, i: int) -> Dict[str, np.ndarray]:
        """Snapshot ``i`` (of ``snapshot_times``): field name -> float32 array (z, y, x),
        read from its .vti file."""
        if not -len(self._snapshots) <= i < len(self._snapshots):
            raise InvalidError(
                f"snapshot {i}: this run has {len(self._snapshots)} snapshots (0..{len(self._snapshots) - 1})"
            )
        path = self._snapshots[i][1]
        g = self.summary["grid"]
        shape = (g["nz"], g["ny"], g["nx"])
        return dict(_native.read_vti(os.fspath(path), shape))

    @property
    def endpoints(self) -> Dict[str, Dict[str, Any]]:
        """The endpoints ``compare`` tabulates (same definitions, same code): key ->
        {"title": heading with unit, "value": number; NaN where the run has no such
        quantity, inf where a threshold was not reached}."""
        return {
            key: {"title": title, "value": value}
            for key, title, value in _native.endpoints(os.fspath(self.folder))
        }

    def __repr__(self) -> str:
        return f"<osteoniche.Run {self.folder} ({len(self._snapshots)} snapshots)>"


def load_run(folder: PathLike) -> Run:
    """A finished run folder: one of ``osteoniche run``, or one arm of ``compare`` or
    ``sweep`` (``<out>/runs/<label>``)."""
    return Run(folder)


def _arms(folder: Path) -> Dict[str, Path]:
    runs = folder / "runs"
    if not runs.is_dir():
        return {}
    return {p.name: p for p in sorted(runs.iterdir()) if (p / "summary.json").exists()}


def load_runs(folder: PathLike) -> Dict[str, Run]:
    """Every finished run of a ``compare`` or ``sweep`` output folder, by its folder name
    under ``runs/`` (the arm's label, or the sweep variant's id), in name order."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileError(f"{folder}: no such folder")
    arms = _arms(folder)
    if not arms:
        raise InvalidError(
            f"{folder}: no finished runs under {folder / 'runs'} (a compare or sweep folder "
            "holds them there; for one run's folder use load_run())"
        )
    return {name: Run(path) for name, path in arms.items()}
