"""The README's Python example runs and prints what its comment says."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_readme_starts_with_the_two_setup_commands():
    text = README.read_text(encoding="utf-8")
    bash = re.findall(r"```bash\n(.*?)```", text, re.S)
    assert bash[0].strip() == "python3 -m pip install . && gptspec explain --config gpt3"
    assert bash[1].strip() == 'python3 -m pip install ".[test]" && python3 -m pytest -n auto'
    assert text.index(bash[1]) < text.index("```python")


def test_python_example_prints_its_comments(capsys):
    blocks = python_blocks()
    assert blocks, "the README has a Python example"
    for block in blocks:
        exec(compile(block, str(README), "exec"), {})
        printed = capsys.readouterr().out.splitlines()
        promised = [m.group(1).strip() for m in re.finditer(r"^print\(.*\)\s+# (.*)$", block, re.M)]
        assert printed == promised
