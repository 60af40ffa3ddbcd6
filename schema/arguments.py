"""Field arguments every domain declares the same way: a described argument, and
the four that page a connection."""

from typing import Annotated, Any

import strawberry


def arg(description: str) -> Any:
    """An argument's description."""
    return strawberry.argument(description=description)


First = Annotated[int | None, arg("Read forwards this many, 1 to 100 (default 50).")]
After = Annotated[str | None, arg("Start after this cursor (with first).")]
Last = Annotated[int | None, arg("Read backwards this many, 1 to 100.")]
Before = Annotated[str | None, arg("End before this cursor (with last).")]
