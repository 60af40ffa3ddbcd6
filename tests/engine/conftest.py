"""Engine fixtures: the tiny in-code model, built once and loaded back from disk."""

import os

# Before diffusers or huggingface_hub are imported: the suite must never reach
# the hub, and a missing file must fail at once rather than try a download.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
