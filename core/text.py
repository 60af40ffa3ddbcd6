"""The one rule for text we accept: no NUL characters, no unpaired surrogates.

Both arrive easily (JSON's "\\u0000" and "\\ud800" decode to them) and both fail
late and obscurely: PostgreSQL text cannot hold NUL, and no UTF-8 encoder (SQLite's
driver, the tokenizer, the JSON response) can write a lone surrogate. Refusing them
at the door keeps every later layer free of the question.
"""

import re

# json.loads joins a valid surrogate pair into one code point, so any surrogate
# left in a str is unpaired.
_REFUSED = re.compile("[\x00\ud800-\udfff]")


def text_problem(value: str) -> str | None:
    """Why `value` cannot be stored or processed, or None when it is fine."""
    found = _REFUSED.search(value)
    if found is None:
        return None
    if found.group() == "\x00":
        return "NUL characters (U+0000) are not allowed"
    # Name the code point, never echo it: it cannot be encoded in a response.
    code_point = f"U+{ord(found.group()):04X}"
    return f"unpaired UTF-16 surrogates (here {code_point}) are not valid Unicode"
