"""Type stubs of the native half (python/src/lib.rs); the public API is the package's
``Simulation``, ``Run`` and ``load_run`` (osteoniche/__init__.py, typed inline)."""

from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

__version__: str

class Simulation:
    def __init__(
        self,
        preset: str,
        resolution: Optional[int] = None,
        backend: str = "auto",
        seed: Optional[int] = None,
        set: Optional[Sequence[Tuple[str, float]]] = None,
        mechanisms: Optional[Sequence[Tuple[str, bool]]] = None,
    ) -> None: ...
    @classmethod
    def resume(cls, path: str, backend: Optional[str] = None) -> "Simulation": ...
    def step(self, n: int) -> None: ...
    def run_days(self, days: float) -> int: ...
    @property
    def step_index(self) -> int: ...
    @property
    def time_days(self) -> float: ...
    @property
    def end_step(self) -> int: ...
    @property
    def field_names(self) -> List[str]: ...
    @property
    def shape(self) -> Tuple[int, int, int]: ...
    def field_array(self, name: str) -> np.ndarray: ...
    def fields_array(self) -> np.ndarray: ...
    def metrics_csv(self) -> str: ...
    def info(self) -> Dict[str, Any]: ...
    def doses(self) -> List[Dict[str, Any]]: ...
    def dose(
        self,
        drug: str,
        route: str,
        mg_per_kg: Optional[float] = None,
        mg: Optional[float] = None,
        hours: Optional[float] = None,
        point_um: Optional[Sequence[float]] = None,
        volume_ul: Optional[float] = None,
    ) -> Dict[str, Any]: ...
    def schedule(
        self,
        drug: str,
        route: str,
        at_h: float,
        every_h: Optional[float] = None,
        count: int = 1,
        mg_per_kg: Optional[float] = None,
        mg: Optional[float] = None,
        hours: Optional[float] = None,
        point_um: Optional[Sequence[float]] = None,
        volume_ul: Optional[float] = None,
    ) -> None: ...
    def checkpoint(self, path: str) -> None: ...

def read_vti(path: str, shape: Tuple[int, int, int]) -> List[Tuple[str, np.ndarray]]: ...
def endpoints(folder: str) -> List[Tuple[str, str, float]]: ...
