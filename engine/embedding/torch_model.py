"""Prompt vectors in the worker, with torch (the reference the API's ONNX export
is checked against), and the ONNX export itself."""

import contextlib
import os
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnx
import torch
from numpy.typing import NDArray
from transformers import AutoModel, AutoTokenizer
from transformers.utils import logging as transformers_logging

from engine.embedding.folder import ONNX_MODEL_ID_KEY, ModelFolder

# What the exported graph takes, in the order a BERT's forward takes them.
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_OUTPUT = "last_hidden_state"


class TorchEmbedder:
    """A sentence-transformers model run as sentence-transformers runs it."""

    def __init__(self, folder: ModelFolder, device: str = "cpu") -> None:
        # Its loading bar would interleave with the service's logs.
        transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]  # unannotated
        self.folder = folder
        self.model_id = folder.model_id
        self.dimension = folder.dimension
        self.device = device
        self.tokenizer = AutoTokenizer.from_pretrained(
            folder.path, local_files_only=True
        )
        self.model = AutoModel.from_pretrained(folder.path, local_files_only=True)
        self.model.to(device).eval()

    def embed(self, texts: Sequence[str], batch_size: int = 64) -> NDArray[np.float32]:
        """One float32 vector per text (L2-normalized when the model normalizes).

        Args:
            texts: Texts of any length; each keeps its first max_seq_length
                tokens, special tokens included.
            batch_size: Texts run through the model at once.

        Returns:
            An array shaped (len(texts), dimension), in the order of `texts`.
        """
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1; got {batch_size}")
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        # Longest first, as sentence-transformers does, so each batch pads little.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        for start in range(0, len(order), batch_size):
            chosen = order[start : start + batch_size]
            out[chosen] = self._batch([texts[i] for i in chosen])
        return out

    def _batch(self, texts: list[str]) -> NDArray[np.float32]:
        encoded = self.tokenizer(
            texts,
            padding=True,
            truncation=True,
            max_length=self.folder.max_seq_length,
            return_tensors="pt",
        ).to(self.device)
        with torch.inference_mode():
            hidden = self.model(**encoded).last_hidden_state
            if self.folder.pooling == "cls":
                pooled = hidden[:, 0]
            else:
                mask = encoded["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            if self.folder.normalize:
                pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
        vectors: NDArray[np.float32] = pooled.float().cpu().numpy()
        return vectors


class _LastHiddenState(torch.nn.Module):
    """The transformer with positional inputs and one output, as ONNX wants."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        token_type_ids: torch.Tensor,
    ) -> torch.Tensor:
        output = self.model(
            input_ids=input_ids,
            attention_mask=attention_mask,
            token_type_ids=token_type_ids,
        )
        hidden: torch.Tensor = output.last_hidden_state
        return hidden


def export_onnx(folder: ModelFolder) -> Path:
    """Write the transformer to folder/onnx/model.onnx for the API's runtime.

    The TorchScript exporter (``dynamo=False``) needs only the onnx package and
    writes one file in about 2 s; the torch.export one also needs onnxscript and
    writes the weights to a second file, which one rename cannot make atomic.
    Eager attention, because the SDPA path's padding checks are traced as
    constants and then mask wrongly.

    Args:
        folder: A BERT-style folder: its tokenizer gives input_ids,
            attention_mask and token_type_ids.

    Returns:
        The file written (atomically): int64 inputs input_ids, attention_mask
        and token_type_ids shaped (batch, sequence), both axes dynamic; output
        last_hidden_state; the folder's model_id in its metadata.
    """
    transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]  # unannotated
    tokenizer = AutoTokenizer.from_pretrained(folder.path, local_files_only=True)
    if set(tokenizer.model_input_names) != set(_INPUTS):
        raise ValueError(
            f"export_onnx exports models taking {', '.join(_INPUTS)};"
            f" {folder.path} takes {', '.join(tokenizer.model_input_names)}"
        )
    model = AutoModel.from_pretrained(
        folder.path, local_files_only=True, attn_implementation="eager"
    ).eval()
    # Two texts of different lengths, so the traced graph masks padding.
    example = tokenizer(
        ["an example of a sentence to trace", "short"],
        padding=True,
        return_tensors="pt",
    )
    target = folder.onnx_path
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, scratch = tempfile.mkstemp(dir=target.parent, suffix=".onnx.part")
    os.close(handle)
    axes = {name: {0: "batch", 1: "sequence"} for name in (*_INPUTS, _OUTPUT)}
    try:
        with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
            # The tracer's notes on constant branches and the legacy exporter.
            warnings.simplefilter("ignore")
            torch.onnx.export(
                _LastHiddenState(model),
                tuple(example[name] for name in _INPUTS),
                scratch,
                input_names=list(_INPUTS),
                output_names=[_OUTPUT],
                dynamic_axes=axes,
                opset_version=17,
                dynamo=False,
            )
        # The weights it came from, so OnnxEmbedder can refuse a stale export.
        graph = onnx.load(scratch)
        onnx.helper.set_model_props(graph, {ONNX_MODEL_ID_KEY: folder.model_id})
        onnx.save(graph, scratch)
        os.chmod(scratch, 0o644)  # mkstemp makes it owner-only; the API reads it
        os.replace(scratch, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(scratch)
    return target
