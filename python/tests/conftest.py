"""Shared paths: the repository's presets and the `osteoniche` binary the tests compare
the Python module with (`OSTEONICHE_BIN`, default target/release/osteoniche, which
`cargo test --release` and `cargo build --release` build)."""

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PRESETS = REPO / "presets"
BASE = PRESETS / "breast-osteolytic.toml"
THERAPY = PRESETS / "therapy" / "breast-nanodocetaxel-denosumab.toml"
LIBRARY = PRESETS / "model" / "drugs.toml"


@pytest.fixture(scope="session")
def cli():
    exe = Path(os.environ.get("OSTEONICHE_BIN", REPO / "target" / "release" / "osteoniche"))
    if not exe.exists():
        pytest.fail(f"{exe}: no osteoniche binary (cargo build --release, or set OSTEONICHE_BIN)")

    def run(*args):
        out = subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        return out

    return run


@pytest.fixture(scope="session")
def cli_fails(cli):
    """Runs the binary expecting a refusal; returns its stderr."""
    exe = Path(os.environ.get("OSTEONICHE_BIN", REPO / "target" / "release" / "osteoniche"))

    def run(*args):
        out = subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True)
        assert out.returncode != 0, out.stdout
        return out.stderr

    return run


def therapy_preset(
    tmp_path: Path, doses: str = "", name: str = "py-dose", drugs=("docetaxel_nc_bone",)
) -> Path:
    """The base preset with the drug library, `drugs` loaded and the given [[dose]]
    tables."""
    p = tmp_path / f"{name}.toml"
    listed = ", ".join(f'"{d}"' for d in drugs)
    p.write_text(
        f'extends = "{BASE}"\nname = "{name}"\n\n[pharmacology]\nlibrary = "{LIBRARY}"\n'
        f"drugs = [{listed}]\n{doses}"
    )
    return p


def pytest_configure(config):
    # The tests run deliberately tiny grids, which never resolve the lattice; the warning
    # itself is checked in test_simulation.py (pytest.warns sees it through this filter).
    config.addinivalue_line(
        "filterwarnings", "ignore:the grid does not resolve the lattice:RuntimeWarning"
    )
