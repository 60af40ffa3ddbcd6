"""Logging as every `darkroom` command sets it up."""

import logging

from core.logcontext import ContextFilter, JsonFormatter, TextFormatter

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


def log_to_stderr(log_format: str = "text") -> None:
    """Every line to stderr (ours, uvicorn's, the libraries'): readable, or one
    JSON object a line with `json`; each carries the request, job and account
    in context and no secret."""
    handler = logging.StreamHandler()
    handler.addFilter(ContextFilter())
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            TextFormatter("%(asctime)s %(levelname)s %(name)s | %(message)s")
        )
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
