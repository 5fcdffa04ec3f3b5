"""A folder as a target (gptspec.recognition): the one whole model in a package folder or a clone of a
project is found and verified, the report says which file; programs beside it are never imported;
none or several whole models is a clear error naming each file."""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys

import pytest

from gptspec.recognition import candidates, defines_only
from gptspec.target import TargetError, load
from gptspec.verification import verify

pytest.importorskip("torch")

TARGETS = pathlib.Path(__file__).resolve().parent / "targets"
ONLY = ["agreement.forward", "agreement.multi_head_attention"]

PROGRAM = """\
import os
import pathlib
pathlib.Path(__file__).with_name("ran").write_text("imported")  # would train, in nanoGPT's train.py
"""


@pytest.mark.parametrize(("source", "kept"), [
    ('"""doc"""\nimport os\nfrom a import b\nX = 1\nY: int = 2\ndef f(): pass\nclass C: pass\n'
     'if __name__ == "__main__":\n    f()\n', True),
    ("try:\n    import torch\nexcept ImportError:\n    torch = None\nif X:\n    def g(): pass\nelse:\n    g = None\n", True),
    ("import sys\nmain()\n", False),
    ("for arg in sys.argv[1:]:\n    pass\n", False),
    ("with open('x') as f:\n    pass\n", False),
    ('if __name__ != "__main__":\n    run()\n', False),
    ("def broken(:\n", False),
])
def test_only_a_file_that_only_defines_is_imported(tmp_path, source, kept):
    path = tmp_path / "m.py"
    path.write_text(source)
    assert defines_only(str(path)) is kept
    assert candidates(str(tmp_path)) == (([str(path)], []) if kept else ([], [str(path)]))


def _clone(tmp_path: pathlib.Path) -> pathlib.Path:
    """A folder like a clone of nanoGPT: its model file and a program beside it."""
    folder = tmp_path / "nanoGPT"
    folder.mkdir()
    shutil.copy(TARGETS / "nanogpt_model.py", folder / "model.py")
    (folder / "train.py").write_text(PROGRAM)
    return folder


def test_a_clone_folder_is_its_model_file_and_the_program_beside_it_never_runs(tmp_path):
    folder = _clone(tmp_path)
    report = verify(f"{folder}/", profile="quick", seed=0, jobs=1, only=ONLY)
    assert report.family.startswith("recognised nanoGPT's GPT in model.py: fused-linear"), report.family
    assert {r.status for r in report.results} == {"passed"}, [(r.name, r.failure) for r in report.results]
    assert not (folder / "ran").exists()


def test_a_package_folder_and_a_package_by_name_are_searched_through_its_modules():
    target = load(str(TARGETS / "mingpt"))
    assert target.obj.GPTSPEC_FAMILY.startswith("recognised minGPT's GPT in model.py: ")
    assert "generate" in target.provides
    named = subprocess.run([sys.executable, "-c", "from gptspec.target import load; "
                            "print(load('mingpt').obj.GPTSPEC_FAMILY)"],
                           cwd=TARGETS, capture_output=True, text=True, timeout=300)
    assert "recognised minGPT's GPT in model.py" in named.stdout, named.stderr[-2000:]


def test_a_folder_of_several_models_asks_for_one_naming_them(tmp_path):
    folder = _clone(tmp_path)
    shutil.copy(TARGETS / "picogpt_gpt2.py", folder / "gpt2.py")
    with pytest.raises(TargetError, match=r"holds several whole models \(gpt2\.py, model\.py\): name the file"):
        load(str(folder))


def test_a_folder_with_no_model_says_what_each_file_was(tmp_path):
    (tmp_path / "helpers.py").write_text("def add(a, b):\n    return a + b\n")
    (tmp_path / "train.py").write_text(PROGRAM)
    with pytest.raises(TargetError) as caught:
        load(str(tmp_path))
    message = str(caught.value)
    assert "helpers.py (no family's structure)" in message
    assert "passed over as programs (importing them would run them): train.py" in message
    assert not (tmp_path / "ran").exists()


def test_the_command_names_the_file_it_verified(tmp_path):
    folder = _clone(tmp_path)
    done = subprocess.run([sys.executable, "-m", "gptspec", "verify", str(folder), "--profile", "quick", "--seed", "0",
                           "--jobs", "1", "--only", "agreement.forward"], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "COLUMNS": "200"})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "recognised nanoGPT's GPT in model.py" in done.stdout
