"""docs/tour.md cannot rot: every ```python block is a doctest, run in order, output checked."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import pytest

from gptspec.spec import signatures as S
from gptspec.spec.flow import signature_text

TOUR = Path(__file__).resolve().parents[2] / "docs" / "tour.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
IMAGE = re.compile(r"!\[[^\]]*\]\(([^)]+)\)")
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def python_blocks(text: str) -> list[tuple[int, str]]:
    """(line number of the block's first line, block text) for every ```python block."""
    return [(text.count("\n", 0, m.start(1)) + 1, m.group(1)) for m in BLOCK.finditer(text)]


def test_the_tour_is_mostly_snippets_and_every_snippet_is_a_doctest():
    blocks = python_blocks(TOUR.read_text(encoding="utf-8"))
    assert len(blocks) >= 10
    for line, block in blocks:
        assert block.lstrip().startswith(">>>"), f"docs/tour.md:{line}: a ```python block that is not a doctest"


def test_every_snippet_runs_and_prints_what_the_tour_says():
    """All blocks share one namespace, as a reader running them in order would."""
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    globs: dict[str, object] = {"__name__": "tour"}
    for line, block in python_blocks(TOUR.read_text(encoding="utf-8")):
        test = parser.get_doctest(block, globs, f"docs/tour.md:{line}", str(TOUR), line - 1)
        runner.run(test, clear_globs=False)
        globs = test.globs  # DocTest copies its globals: carry this block's names to the next
    results = runner.summarize(verbose=False)
    assert results.attempted > 40
    assert results.failed == 0, "see the doctest report above (file docs/tour.md, line of each failure)"


@pytest.mark.parametrize("name", sorted(S.SIGNATURES))
def test_the_tour_shows_the_real_signature_of_every_spec_function(name):
    """Each step quotes its typed signature as signature_text prints it from the spec."""
    text = TOUR.read_text(encoding="utf-8")
    assert f">>> print(signature_text(S.{name}))\n{signature_text(S.SIGNATURES[name])}\n" in text


def test_the_tour_embeds_the_three_committed_pictures():
    images = IMAGE.findall(TOUR.read_text(encoding="utf-8"))
    assert {Path(i).name for i in images} >= {"temperature.png", "pattern.png", "heads.png"}
    for image in images:
        path = TOUR.parent / image
        assert path.is_file() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", image
