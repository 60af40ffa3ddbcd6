"""Search text to vectors without torch: the model's ONNX export on ONNX Runtime,
tokenized by the tokenizers library (the same tokenizer.json the worker uses)."""

from collections.abc import Sequence

import numpy as np
import onnxruntime
from tokenizers import Tokenizer

from engine.embedding.folder import ModelFolder, ModelUnavailable


class OnnxEmbedder:
    """The same vectors as TorchEmbedder (cosine >= 0.999), in a torch-free process.

    One intra-op thread by default: the same text then gives the same bits every
    time, which keeps a search's cursors valid from page to page.
    """

    def __init__(self, folder: ModelFolder, threads: int = 1) -> None:
        if not folder.onnx_path.exists():
            raise ModelUnavailable(
                f"{folder.path} has no ONNX export ({folder.onnx_path}); run"
                " `darkroom search reindex` once, which exports it"
            )
        self.folder = folder
        self.model_id = folder.model_id
        self.dimension = folder.dimension
        self.tokenizer = Tokenizer.from_file(str(folder.path / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=folder.max_seq_length)
        self.tokenizer.enable_padding()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(
            str(folder.onnx_path), options, providers=["CPUExecutionProvider"]
        )
        self.inputs = {i.name for i in self.session.get_inputs()}

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One float32 vector per text (L2-normalized when the model normalizes)."""
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
        hidden = self.session.run(
            None, {k: v for k, v in feeds.items() if k in self.inputs}
        )[0]
        if self.folder.pooling == "cls":
            pooled = hidden[:, 0]
        else:
            mask = feeds["attention_mask"][..., None].astype(hidden.dtype)
            pooled = (hidden * mask).sum(1) / np.clip(mask.sum(1), 1e-9, None)
        if self.folder.normalize:
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            pooled = pooled / np.clip(norms, 1e-12, None)
        return np.ascontiguousarray(pooled, dtype=np.float32)
