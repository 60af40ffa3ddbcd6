"""Imports point one way, and the API process never loads torch.

Ruff and mypy run in .ci/run, beside the tests rather than inside them.
"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_import_contracts_hold() -> None:
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(lint_imports)], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_api_process_does_not_import_torch() -> None:
    code = (
        "import sys, darkroom.services, api.schema, api.app;"
        "bad = sorted(m for m in ('torch', 'diffusers', 'transformers') if m in sys.modules);"
        "print(','.join(bad))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
