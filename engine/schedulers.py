"""Make a fresh diffusers scheduler for a catalog scheduler id."""

from collections.abc import Mapping
from typing import Any

import diffusers
from diffusers.schedulers.scheduling_utils import SchedulerMixin

from engine.catalog import SCHEDULERS

# id -> (diffusers class, config overrides). The overrides pick the variant
# the id names in other UIs (A1111, Stablecog), e.g. DPM++ rather than DPM.
SCHEDULER_CLASSES: dict[str, tuple[str, dict[str, Any]]] = {
    "K_EULER": ("EulerDiscreteScheduler", {}),
    "K_EULER_ANCESTRAL": ("EulerAncestralDiscreteScheduler", {}),
    "DDIM": ("DDIMScheduler", {}),
    "DPM++_2M": (
        "DPMSolverMultistepScheduler",
        {"algorithm_type": "dpmsolver++", "solver_order": 2},
    ),
    "DPM++_2S": (
        "DPMSolverSinglestepScheduler",
        # lower_order_final: diffusers forces it anyway, with a logged warning.
        {"algorithm_type": "dpmsolver++", "solver_order": 2, "lower_order_final": True},
    ),
    "K_LMS": ("LMSDiscreteScheduler", {}),  # needs scipy
    "PNDM": ("PNDMScheduler", {"skip_prk_steps": True}),
    "HEUN": ("HeunDiscreteScheduler", {}),
    "DEIS": ("DEISMultistepScheduler", {}),
    "UNI_PC": ("UniPCMultistepScheduler", {}),
    "DDPM": ("DDPMScheduler", {}),
    "LCM": ("LCMScheduler", {}),
}
assert set(SCHEDULER_CLASSES) == set(SCHEDULERS), "catalog and engine disagree"


def make_scheduler(scheduler_id: str, base_config: Mapping[str, Any]) -> SchedulerMixin:
    """Build a new scheduler of the given id from a model's base scheduler config.

    Args:
        scheduler_id: A key of `engine.catalog.SCHEDULERS`.
        base_config: The config of the scheduler the model was saved with; it
            carries the model's beta schedule and prediction type.

    Returns:
        A scheduler with no state, never shared with another request.
    """
    class_name, overrides = SCHEDULER_CLASSES[scheduler_id]
    cls: Any = getattr(diffusers, class_name)  # from_config comes from a mixin
    # A copy, so that neither the overrides nor from_config touch the base.
    config = {**dict(base_config), **overrides}
    scheduler: SchedulerMixin = cls.from_config(config)
    return scheduler
