"""uvicorn's Server, draining the app before it stops (see api/drain.py)."""

import uvicorn

from api.drain import Drain

# What in-flight HTTP requests may still take once the drain is done.
FINAL_REQUESTS_SECONDS = 5


class DrainingServer(uvicorn.Server):
    """On SIGTERM (or Ctrl-C) the app drains first, still listening, and only
    then does uvicorn's shutdown begin; a second Ctrl-C stops at once."""

    def __init__(self, config: uvicorn.Config, drain: Drain) -> None:
        super().__init__(config)
        self.drain = drain

    async def on_tick(self, counter: int) -> bool:
        """Keep serving while the drain runs; stop once it is done."""
        stop = await super().on_tick(counter)
        if stop and not self.force_exit and not self.drain.finished:
            self.drain.begin()
            return False
        return stop
