"""Prompt vectors in the worker, with torch (the reference the API's ONNX export
is checked against), and the ONNX export itself."""

import os
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from transformers import AutoModel, AutoTokenizer

from engine.embedding.folder import ModelFolder

_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


class TorchEmbedder:
    """A sentence-transformers model run as sentence-transformers runs it."""

    def __init__(self, folder: ModelFolder, device: str = "cpu") -> None:
        self.folder = folder
        self.model_id = folder.model_id
        self.dimension = folder.dimension
        self.device = device
        self.tokenizer = AutoTokenizer.from_pretrained(
            folder.path, local_files_only=True
        )
        self.model = AutoModel.from_pretrained(folder.path, local_files_only=True)
        self.model.to(device).eval()

    def embed(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """One float32 vector per text (L2-normalized when the model normalizes)."""
        parts = [np.zeros((0, self.dimension), dtype=np.float32)]
        for start in range(0, len(texts), batch_size):
            parts.append(self._batch(list(texts[start : start + batch_size])))
        return np.concatenate(parts)

    def _batch(self, texts: list[str]) -> np.ndarray:
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
        vectors: np.ndarray = pooled.float().cpu().numpy()
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

    The TorchScript exporter needs no onnxscript; eager attention, because the
    SDPA path's padding checks are traced as constants and then mask wrongly.
    """
    tokenizer = AutoTokenizer.from_pretrained(folder.path, local_files_only=True)
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
    axes = {name: {0: "batch", 1: "sequence"} for name in (*_INPUTS, "hidden")}
    try:
        with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
            # The tracer's notes on constant branches and the legacy exporter.
            warnings.simplefilter("ignore")
            torch.onnx.export(
                _LastHiddenState(model),
                tuple(example[name] for name in _INPUTS),
                scratch,
                input_names=list(_INPUTS),
                output_names=["hidden"],
                dynamic_axes=axes,
                opset_version=17,
                dynamo=False,
            )
        os.replace(scratch, target)
    finally:
        if os.path.exists(scratch):
            os.unlink(scratch)
    return target
