"""Every refusal raises a subclass of osteoniche.Error (and of the matching built-in), with
the command line's located message; none crashes the interpreter."""

import re

import pytest

import osteoniche as on
from conftest import BASE, therapy_preset

RES = 8


@pytest.fixture(scope="module")
def dosed(tmp_path_factory):
    return on.Simulation(
        therapy_preset(tmp_path_factory.mktemp("p")), resolution=RES, backend="cpu"
    )


def write(tmp_path, text, name="bad.toml"):
    p = tmp_path / name
    p.write_text(text)
    return p


PRESET_CASES = [
    # (preset text, exception, message pattern): located at file:line:column.
    (f'extends = "{BASE}"\nname = "x"\n[time]\ndt = "1 parsec"\n', on.PresetError,
     r"bad\.toml: `1 parsec`: unknown time unit `parsec` \(allowed: s, min, h, d\)"),
    ('name = "x"\n[grid\n', on.PresetError, r"bad\.toml:2:\d+"),
    (f'extends = "{BASE}"\nname = "x"\nbogus_key = 1\n', on.PresetError,
     r"bad\.toml: unknown field `bogus_key`, expected one of `extends`"),
    (f'extends = "{BASE}"\nname = "x"\n[[species]]\nname = "tumour"\ndecay = 1e300\n',
     on.PresetError, r"bad\.toml:5:\d+: .*decay"),
]


@pytest.mark.parametrize("text,exc,pattern", PRESET_CASES)
def test_bad_presets_are_located_as_the_cli_says(tmp_path, text, exc, pattern, cli_fails):
    path = write(tmp_path, text)
    with pytest.raises(exc, match=pattern) as e:
        on.Simulation(path, resolution=RES, backend="cpu")
    assert isinstance(e.value, on.Error) and isinstance(e.value, ValueError)
    assert str(e.value) in cli_fails("run", path, "--resolution", RES, "--days", 0.1)


@pytest.mark.parametrize(
    "kwargs,exc,pattern",
    [
        (dict(set={"bogus": 1.0}), on.InvalidError, r"bogus.*not a parameter"),
        (dict(set={"tumour_growth": -5.0}), on.Error, r"tumour_growth"),
        (dict(mechanisms={"M99": False}), on.Error, r"M99"),
        (dict(backend="tpu"), on.InvalidError, r"tpu"),
        (dict(resolution=0), on.Error, r"resolution"),
    ],
)
def test_bad_simulation_arguments(kwargs, exc, pattern):
    with pytest.raises(exc, match=pattern):
        on.Simulation(BASE, **{"resolution": RES, "backend": "cpu", **kwargs})


def test_a_missing_preset_is_a_file_error(tmp_path):
    with pytest.raises(on.FileError, match="nope.toml") as e:
        on.Simulation(tmp_path / "nope.toml")
    assert isinstance(e.value, OSError)


@pytest.mark.parametrize(
    "args,kwargs,pattern",
    [
        (("zoledronate", "iv-bolus"), dict(mg=1.0), r"`zoledronate` is not loaded"),
        (("docetaxel_nc_bone", "teleport"), dict(mg=1.0), r"teleport"),
        (("docetaxel_nc_bone", "iv-bolus"), dict(), r"give an amount"),
        (("docetaxel_nc_bone", "iv-bolus"), dict(mg=1.0, mg_per_kg=1.0), r"not both"),
        (("docetaxel_nc_bone", "iv-bolus"), dict(mg=-1.0), r"docetaxel_nc_bone"),
        (("docetaxel_nc_bone", "local"), dict(mg=0.01, point_um=[1e6, 0, 0], volume_ul=0.05),
         r"outside"),
        (("docetaxel_nc_bone", "local"), dict(mg=0.01, point_um=[10, 10, 10]), r"volume"),
    ],
)
def test_bad_doses_change_nothing(dosed, args, kwargs, pattern):
    before = dosed.fields()
    with pytest.raises(on.InvalidError, match=pattern) as e:
        dosed.dose(*args, **kwargs)
    by_library = args[1] != "teleport" and len({"mg", "mg_per_kg"} & kwargs.keys()) == 1
    # A dose the library refused names its drug; the keyword checks before it do not.
    assert e.value.drug == (args[0] if by_library else None)
    assert dosed.doses() == []
    after = dosed.fields()
    assert all((before[k] == after[k]).all() for k in before)


def test_a_dose_without_drugs_and_a_schedule_in_the_past(dosed):
    plain = on.Simulation(BASE, resolution=RES, backend="cpu")
    with pytest.raises(on.InvalidError, match="no drugs"):
        plain.dose("docetaxel_nc_bone", "iv-bolus", mg=1.0)
    dosed.run(days=0.5)
    with pytest.raises(on.InvalidError, match="in the past"):
        dosed.schedule("docetaxel_nc_bone", "iv-bolus", at_h=1, mg=1.0)
    with pytest.raises(on.InvalidError, match="every_h"):
        dosed.schedule("docetaxel_nc_bone", "iv-bolus", at_h=24, count=3, mg=1.0)


def test_bad_steps_fields_and_days(dosed):
    with pytest.raises(on.InvalidError, match="no field `nope`"):
        dosed.field("nope")
    with pytest.raises(on.InvalidError, match="positive"):
        dosed.run(days=-1)
    with pytest.raises(on.InvalidError, match="whole number"):
        dosed.step(-3)


def test_bad_checkpoints(tmp_path):
    sim = on.Simulation(BASE, resolution=RES, backend="cpu")
    sim.run(days=0.25)
    good = tmp_path / "good.osck"
    sim.checkpoint(good)
    data = bytearray(good.read_bytes())
    data[len(data) // 2] ^= 0xFF
    corrupt = tmp_path / "corrupt.osck"
    corrupt.write_bytes(bytes(data))
    with pytest.raises(on.CheckpointError, match=re.escape(str(corrupt))) as e:
        on.Simulation.resume(corrupt)
    assert e.value.path == corrupt
    text = tmp_path / "text.osck"
    text.write_text("not a checkpoint")
    with pytest.raises(on.CheckpointError, match="text.osck"):
        on.Simulation.resume(text)
    with pytest.raises(on.FileError, match="missing.osck"):
        on.Simulation.resume(tmp_path / "missing.osck")
    with pytest.raises(on.InvalidError, match="tpu"):
        on.Simulation.resume(good, backend="tpu")


def test_bad_run_folders(tmp_path):
    with pytest.raises(on.FileError, match="no such run folder"):
        on.load_run(tmp_path / "nothing")
    (tmp_path / "half").mkdir()
    with pytest.raises(on.InvalidError, match="no finished run"):
        on.load_run(tmp_path / "half")


def test_a_bad_snapshot_index(tmp_path, cli):
    out = tmp_path / "run"
    cli("run", BASE, "--days", 0.25, "--resolution", RES, "--backend", "cpu", "--quiet",
        "--out", out)
    with pytest.raises(on.InvalidError, match="has 2 snapshots"):
        on.load_run(out).snapshot(5)


def test_a_preset_error_carries_file_line_column_and_key(tmp_path):
    path = write(tmp_path, f'extends = "{BASE}"\nname = "x"\n[[species]]\nname = "tumour"\ndecay = 1e300\n')
    with pytest.raises(on.PresetError) as e:
        on.Simulation(path, resolution=RES, backend="cpu")
    err = e.value
    assert err.file == str(path)
    assert err.line == 5 and isinstance(err.column, int)
    assert "decay" in err.key
    # A syntax error has a place but no key.
    path = write(tmp_path, 'name = "x"\n[grid\n', name="syntax.toml")
    with pytest.raises(on.PresetError) as e:
        on.Simulation(path, resolution=RES, backend="cpu")
    assert e.value.file == str(path) and e.value.line == 2 and e.value.key is None


def test_a_day_count_past_the_step_limit_is_refused_and_nothing_steps(dosed):
    before = dosed.step_index
    with pytest.raises(on.InvalidError, match=r"run\(days=10+\): .*more than 1000000000 steps"):
        dosed.run(days=1e20)
    assert dosed.step_index == before
