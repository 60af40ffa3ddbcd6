"""Search text to vectors in the API process, torch-free (ONNX Runtime).

A query's vector is cached by its text: the next page of the same search, here
or after a restart, gets the same vector, so its cursor fits (ONNX Runtime on one
thread gives the same bits for the same text).
"""

import asyncio
from collections import OrderedDict
from collections.abc import Sequence
from typing import Protocol

import numpy as np

CACHED_QUERIES = 1024


class Embedder(Protocol):
    """engine.embedding.onnx_runtime.OnnxEmbedder."""

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


class CachedQueryVectors:
    """The vector of each search text, embedded off the event loop."""

    def __init__(self, embedder: Embedder, *, size: int = CACHED_QUERIES) -> None:
        self.embedder = embedder
        self.size = size
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()

    async def vector(self, text: str) -> np.ndarray:
        """The text's vector, as the worker embeds prompts."""
        found = self._cache.get(text)
        if found is not None:
            self._cache.move_to_end(text)
            return found
        # One text at a time: padding beside longer texts would change its bits.
        vectors = await asyncio.to_thread(self.embedder.embed, [text])
        vector: np.ndarray = vectors[0]
        self._cache[text] = vector
        if len(self._cache) > self.size:
            self._cache.popitem(last=False)
        return vector
