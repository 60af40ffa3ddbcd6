"""Search text to vectors without torch: the model's ONNX export on ONNX Runtime,
tokenized by the tokenizers library (the same tokenizer.json the worker uses).

Imports only numpy, onnxruntime, tokenizers, the stdlib and engine.embedding.folder,
so the API process embeds queries and stays torch-free.
"""

import ctypes
import json
from collections.abc import Sequence

import numpy as np
import onnxruntime
from numpy.typing import NDArray
from tokenizers import Tokenizer

from engine.embedding.folder import ONNX_MODEL_ID_KEY, ModelFolder, ModelUnavailable


class OnnxEmbedder:
    """The same vectors as TorchEmbedder (cosine >= 0.999), in a torch-free process.

    Deterministic: the same texts in the same call give the same bits every time,
    which keeps a search's cursors valid from page to page. On ONNX Runtime 1.32
    a text padded beside longer ones gave the same bits as alone too (all 100
    test prompts), but no kernel promises that, so embed queries one at a time.
    """

    def __init__(self, folder: ModelFolder, threads: int = 1) -> None:
        """Open the folder's tokenizer and ONNX export.

        Args:
            folder: A folder read by read_model_folder and exported by
                engine.embedding.torch_model.export_onnx.
            threads: ONNX Runtime intra-op threads, at least 1.

        Raises:
            ModelUnavailable: No export, or one made from other weights.
        """
        if threads < 1:
            raise ValueError(f"threads must be at least 1; got {threads}")
        if not folder.onnx_path.exists():
            raise ModelUnavailable(
                f"{folder.path} has no ONNX export ({folder.onnx_path}); run"
                " `darkroom search reindex` once, or"
                " engine.embedding.torch_model.export_onnx, which writes it"
            )
        self.folder = folder
        self.model_id = folder.model_id
        self.dimension = folder.dimension
        self.tokenizer = _tokenizer(folder)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # Nodes one after another on one pool: each kernel's reduction order then
        # depends only on the input's shape.
        options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
        self.session = onnxruntime.InferenceSession(
            str(folder.onnx_path), options, providers=["CPUExecutionProvider"]
        )
        metadata = self.session.get_modelmeta().custom_metadata_map
        exported = metadata.get(ONNX_MODEL_ID_KEY)
        if exported != folder.model_id:
            # Vectors of other weights would sit in the index under this model_id.
            raise ModelUnavailable(
                f"{folder.onnx_path} was exported from {exported or 'unknown weights'},"
                f" not {folder.model_id}; delete it and run export_onnx again"
            )
        self.inputs = {i.name for i in self.session.get_inputs()}
        _return_freed_heap()

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """One float32 vector per text (L2-normalized when the model normalizes).

        Args:
            texts: Texts of any length; each keeps its first max_seq_length
                tokens, special tokens included.

        Returns:
            An array shaped (len(texts), dimension).
        """
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        encoded = self.tokenizer.encode_batch(list(texts))
        feeds = {
            "input_ids": np.array([e.ids for e in encoded], dtype=np.int64),
            "attention_mask": np.array(
                [e.attention_mask for e in encoded], dtype=np.int64
            ),
            "token_type_ids": np.array([e.type_ids for e in encoded], dtype=np.int64),
        }
        hidden = np.asarray(
            self.session.run(
                None, {k: v for k, v in feeds.items() if k in self.inputs}
            )[0],
            dtype=np.float32,
        )
        if self.folder.pooling == "cls":
            pooled = hidden[:, 0]
        else:
            # sentence-transformers' mean: masked sum over a count clamped at 1e-9.
            mask = feeds["attention_mask"][..., None].astype(np.float32)
            pooled = (hidden * mask).sum(1) / np.clip(mask.sum(1), 1e-9, None)
        if self.folder.normalize:
            # torch.nn.functional.normalize's eps, so both sides agree on zeros.
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            pooled = pooled / np.clip(norms, 1e-12, None)
        return np.ascontiguousarray(pooled, dtype=np.float32)


def _tokenizer(folder: ModelFolder) -> Tokenizer:
    """tokenizer.json, truncating at max_seq_length and padding to the longest."""
    path = folder.path / "tokenizer.json"
    if not path.exists():
        raise ModelUnavailable(f"{folder.path} has no tokenizer.json for ONNX Runtime")
    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.enable_truncation(max_length=folder.max_seq_length)
    # transformers pads with the config's pad token; the library's default
    # ("[PAD]", id 0) is right for BERT only.
    pad_token = _pad_token(folder)
    pad_id = tokenizer.token_to_id(pad_token)
    if pad_id is None:
        raise ModelUnavailable(f"{path} has no id for its pad token {pad_token!r}")
    tokenizer.enable_padding(pad_id=pad_id, pad_token=pad_token)
    return tokenizer


def _pad_token(folder: ModelFolder) -> str:
    """The pad token transformers' tokenizer for this folder uses."""
    for name in ("tokenizer_config.json", "special_tokens_map.json"):
        try:
            config = json.loads((folder.path / name).read_text(encoding="utf-8"))
        except FileNotFoundError:
            continue
        token = config.get("pad_token")
        if isinstance(token, dict):  # an AddedToken, written out
            token = token.get("content")
        if isinstance(token, str):
            return token
    raise ModelUnavailable(f"{folder.path} names no pad_token in its tokenizer config")


def _return_freed_heap() -> None:
    """Hand back to the system the heap that building the session freed (the
    parsed model, 15-30 MB): glibc keeps it otherwise, and the idle API would
    carry it for good. Elsewhere the allocator decides."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    libc.malloc_trim(0)
