"""What every rendered report must show and not show, shared by the notebook render tests
and the engine report tests: no error, no stderr stream, no warning, no traceback."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat


def assert_clean_outputs(notebook: Path) -> None:
    """No error, stderr stream or warning in the outputs of an executed notebook."""
    executed = nbformat.read(notebook, as_version=4)
    for number, cell in enumerate(executed.cells, start=1):
        for output in cell.get("outputs", []):
            assert output.output_type != "error", f"cell {number}: {output.get('evalue')}"
            if output.output_type == "stream":
                assert output.name != "stderr", f"cell {number} wrote to stderr: {output.text}"
            text = str(output.get("data", {}).get("text/plain", ""))
            assert "Warning" not in text, f"cell {number} shows a warning: {text[:300]}"


def assert_clean_page(page: str) -> None:
    """No traceback and no stderr output in a report's HTML."""
    assert "Traceback" not in page, "a traceback is shown"
    assert not re.search(r'class="[^"]*output_stderr', page), "a stderr output is shown"
