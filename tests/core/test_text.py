"""The text rule: NUL and unpaired surrogates are named; everything else passes."""

import json

import pytest

from core.text import text_problem


@pytest.mark.parametrize(
    "value",
    ["", "a fox", "tab\tand\nnewline", "fox 🦊", json.loads('"\\ud83e\\udd8a"')],
)
def test_ordinary_text_and_surrogate_pairs_pass(value: str) -> None:
    assert text_problem(value) is None


def test_a_nul_character_is_named() -> None:
    assert text_problem("a\x00b") == "NUL characters (U+0000) are not allowed"


@pytest.mark.parametrize("raw", ['"\\ud800"', '"x\\udfff"', '"\\udc00\\ud83d"'])
def test_an_unpaired_surrogate_is_named_by_code_point_not_echoed(raw: str) -> None:
    value = json.loads(raw)
    problem = text_problem(value)
    assert problem is not None
    assert "U+D" in problem
    problem.encode()  # the message itself is encodable
