"""One lock for building torch modules, shared by every engine thread of a process.

diffusers' from_pretrained builds modules inside accelerate's init_empty_weights,
which patches torch.nn.Module for the whole process while it runs: a module that
another thread builds meanwhile lands on the meta device and cannot be used. A
worker runs one engine thread and never meets this; a process with several
(tests, benchmarks) would, so loading pipelines and upscalers takes turns.
"""

import threading

MODULE_BUILDING = threading.Lock()
