"""The README's two commands stay at the top and CI runs the second verbatim."""

import re
from pathlib import Path

ROOT = Path(__file__).parent.parent


def readme_commands() -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    return [block.strip() for block in blocks[:2]]


def test_the_readme_opens_with_two_single_line_commands() -> None:
    serve, test = readme_commands()
    assert "\n" not in serve
    assert "\n" not in test
    assert serve.endswith("darkroom serve")
    assert "pytest" in test


def test_ci_runs_the_readmes_test_command_verbatim() -> None:
    _serve, test = readme_commands()
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test in ci_lines


def test_every_setting_is_in_the_configuration_table() -> None:
    from core.settings import Settings

    readme = (ROOT / "README.md").read_text()
    missing = [
        name
        for name in Settings.model_fields
        if f"DARKROOM_{name.upper()}" not in readme
        # the tier limits share one row: DARKROOM_PARALLEL_FREE, `_STARTER`, ...
        and not (
            name.startswith("parallel_") and name.split("_", 1)[1].upper() in readme
        )
    ]
    assert missing == []
