"""Set how many CPU threads torch (and ncnn) use, and how idle ones wait.

Left alone, torch runs one intra-op thread per core and its bundled GNU OpenMP
(libgomp) spins idle threads for a while before sleeping. On a machine shared
with the API, Redis or other workers, those threads fight for cores: on a busy
2-core box a 64 px tiny-model call took 5 s instead of 0.11 s.

The wait policy is read once, by each libgomp copy's load-time constructor:
torch's (loaded by ``import torch``) and ncnn's own (``import ncnn``). Setting
``OMP_WAIT_POLICY`` after that changes nothing; verified with
``OMP_DISPLAY_ENV=VERBOSE``, which shows ``GOMP_SPINCOUNT = '0'`` only when the
variable was set before the import, and the default ``'300000'`` otherwise.
So ``configure_threads`` must run before anything imports torch or ncnn: first
thing in ``serve`` and ``worker``. Thread counts still apply when it runs later.
"""

import contextlib
import os
import sys

# Modules whose import starts a libgomp that has then already read its policy.
OPENMP_USERS = ("torch", "ncnn")


def default_threads(cpu_count: int | None) -> int:
    """Return the intra-op thread count for a machine: every usable core.

    With the passive wait policy an idle thread sleeps at once, so a thread
    sharing its core with another program no longer holds the others up, and
    the scheduler moves work onto whatever cores are free. Leaving a core
    spare then only gives up CPU: on a loaded 2-core box, through `darkroom
    serve` (benchmarks/serve.py), one thread ran the default job 2-3x slower
    beside busy programs than two did, and the server answered queries during
    jobs no faster. (On a quiet box the tiny model ran faster on one thread:
    its layers are too small to split well, which a real model's are not.)

    Args:
        cpu_count: Cores this process may use (``len(os.sched_getaffinity(0))``
            where available, so a container's limit counts); None when unknown.

    Returns:
        ``cpu_count``, at least 1.
    """
    return max(1, cpu_count or 1)


def configure_threads(threads: int) -> bool:
    """Set torch's intra- and inter-op threads and a passive OpenMP wait policy.

    Args:
        threads: Intra-op threads for CPU work, at least 1. The ncnn upscaler
            reads the same count from torch when it loads.

    Returns:
        True if the passive wait policy takes effect, False if torch or ncnn
        was imported before this call, too late for it (the caller may log it).
    """
    if threads < 1:
        raise ValueError(f"threads must be at least 1; got {threads}")
    in_time = not any(name in sys.modules for name in OPENMP_USERS)
    # Idle threads sleep at once instead of spinning on cores others need; the
    # cost, a few microseconds to wake them per parallel region, is nothing
    # against a convolution's milliseconds.
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    import torch  # here, not at the top: the policy above must come first

    torch.set_num_threads(threads)
    # Allowed once per process, before any inter-op work, else RuntimeError.
    # Darkroom runs no inter-op parallel work (no TorchScript forks), so a pool
    # left at another size stays idle: no reason to fail a start over it.
    with contextlib.suppress(RuntimeError):
        if torch.get_num_interop_threads() != threads:
            torch.set_num_interop_threads(threads)
    return in_time
