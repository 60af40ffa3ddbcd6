"""Logging as every `darkroom` command sets it up."""

import logging

# transformers 5 warns once per image-processor name that diffusers imports
# (CLIP, Siglip, Siglip2) that torchvision is missing and it falls back to the
# PIL processor. Darkroom leaves torchvision out on purpose (it pulls a CUDA
# torch) and its pipelines never use those processors, so the advice is noise.
TORCHVISION_FALLBACK = "requires torchvision (not installed); falling back to"
TRANSFORMERS_IMPORTS_LOGGER = "transformers.utils.import_utils"


class _DropTorchvisionFallback(logging.Filter):
    """Keep every record of the logger but the torchvision fallback notice."""

    def filter(self, record: logging.LogRecord) -> bool:
        return TORCHVISION_FALLBACK not in record.getMessage()


def quiet_known_notices() -> None:
    """Drop the one transformers notice that advises a package we exclude."""
    logger = logging.getLogger(TRANSFORMERS_IMPORTS_LOGGER)
    if not any(isinstance(f, _DropTorchvisionFallback) for f in logger.filters):
        logger.addFilter(_DropTorchvisionFallback())


def log_to_stderr() -> None:
    """Our own lines (the engine's threads and warm-up, the worker's jobs)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
