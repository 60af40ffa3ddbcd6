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
    # the server depends on darkroom-client, which is on no index: pip must get
    # it from its folder in the same call
    assert "pip install -e clients/python -e . " in serve
    assert "pip install -q -e clients/python -e '.[test]' " in test


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


# Programs a reader already has; everything else must be a path the README's
# first command made (`.venv/bin/...`) or one a command before it in the block made.
SHELL_WORDS = {"cd", "export", "source"}
OUR_PROGRAMS = {"darkroom", "pytest", "ruff", "mypy", "lint-imports", "strawberry"}


def shell_commands(block: str) -> list[str]:
    """The simple commands of a bash block: continuations joined, comments cut."""
    joined = re.sub(r"\\\n\s*", " ", block)
    commands = []
    for line in joined.splitlines():
        line = re.sub(r"(^|\s)#.*$", "", line).strip()
        commands += [part.strip() for part in re.split(r"&&|\|\||;|\|", line)]
    return [c for c in commands if c]


def program_of(command: str) -> str:
    """The program a command runs, after any VAR=value assignments."""
    words = [w for w in command.split() if not re.fullmatch(r"[A-Z_][A-Z0-9_]*=\S*", w)]
    return words[0] if words else ""


def test_every_readme_command_runs_as_written_after_the_first_command() -> None:
    import shutil
    import sys

    venv_bin = Path(sys.executable).parent  # the venv the README's command made
    blocks = re.findall(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    not_found = []
    for block in blocks[2:]:
        made_venvs = {".venv"}
        for command in shell_commands(block):
            program = program_of(command)
            if venv := re.search(r"-m venv (\S+)", command):
                made_venvs.add(venv.group(1))
            if not program or program in SHELL_WORDS:
                continue
            folder, _, name = program.rpartition("/")
            if folder == ".venv/bin":
                found = (venv_bin / name).exists()
            elif folder.endswith("/bin") and folder[: -len("/bin")] in made_venvs:
                found = True
            elif folder:
                found = (ROOT / program).exists()
            else:
                found = (
                    program not in OUR_PROGRAMS and shutil.which(program) is not None
                )
            if not found:
                not_found.append(command)
    assert not_found == []
