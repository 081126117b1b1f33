"""The exceptions osteoniche raises. Each carries the message the command line gives for
the same refusal (a preset's file:line:column, the dose and what is allowed, the
checkpoint and what is wrong with it)."""


class Error(Exception):
    """Base class of every osteoniche refusal."""


class PresetError(Error, ValueError):
    """A preset that is not valid TOML, does not fit the schema, or has a value out of its
    range, an unknown parameter or a bad unit; the message starts with file:line:column.

    Attributes (set when the library located the problem): ``file``, ``line`` and
    ``column`` (1-based, or None), ``key`` (the dotted key, or None when the problem is
    not one key's value)."""

    file = None
    line = None
    column = None
    key = None


class InvalidError(Error, ValueError):
    """A request that does not fit this simulation: an unknown field, a dose of a drug not
    loaded, a point outside the domain, a bad route or backend name.

    A refused dose has ``drug`` (the drug asked for); other refusals have it None."""

    drug = None


class CheckpointError(Error, ValueError):
    """A checkpoint that is corrupt, of another format version, or does not fit its
    preset; ``path`` is the checkpoint file (a ``pathlib.Path``)."""

    path = None


class FileError(Error, OSError):
    """A file that cannot be read or written (the path is in the message)."""


class ResourceError(Error, RuntimeError):
    """A grid that does not fit the host's or the device's memory."""


class BackendError(Error, RuntimeError):
    """The GPU could not be used (no adapter, device, shader or pipeline failure)."""


class NumericalError(Error, RuntimeError):
    """A field turned NaN or infinite (the message names the field, step and voxel), or an
    implicit solve did not converge (the field, iterations and residual).

    Attributes: ``field``; for a non-finite field ``step``, ``day``, ``voxel`` (i, j, k,
    i along x) and ``value``; for a solve ``iterations`` and ``residual``."""

    field = None
    step = None
    day = None
    voxel = None
    value = None
    iterations = None
    residual = None
