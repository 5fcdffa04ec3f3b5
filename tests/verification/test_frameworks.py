"""Frameworks: each one object registered once, named only in its own module; JAX as the proof that
a framework is one module (examples/jax_gpt.py, columns, 64-bit; examples/jax_rows.py, rows, float32).

A JAX import costs ~1-2 s a process and every new shape compiles each operation, so the verify
tests here run a few properties each, at the quick profile, with a generous per-call limit."""

from __future__ import annotations

import importlib
import pathlib
import re
import subprocess
import sys
import textwrap
import types

import numpy as np
import pytest

import gptspec
from gptspec.target import TargetError, address, detect_framework, load, load_object
from gptspec.verification import frameworks, verify
from gptspec.verification.adapters import adapt
from gptspec.verification.choices import FRAMEWORKS
from gptspec.verification.isolation import Setup, TargetProcess
from gptspec.verification.report import Failure

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLES, BUGS, SRC = ROOT / "examples", ROOT / "tests" / "examples", ROOT / "src" / "gptspec"
SLOW_CALLS = 120.0  # seconds per call: JAX compiles each operation for each new shape, slowly on a loaded machine


@pytest.fixture
def jax64():
    """JAX with its 64-bit mode as a test sets it, restored afterwards (it is process-wide)."""
    jax = pytest.importorskip("jax")
    before = jax.config.read("jax_enable_x64")
    yield jax
    jax.config.update("jax_enable_x64", before)


def test_every_framework_is_registered_once_and_its_name_is_quoted_only_in_its_own_module():
    assert FRAMEWORKS == frameworks.NAMES == tuple(f.name for f in frameworks.registered())
    registry = SRC / "verification" / "frameworks" / "__init__.py"
    for framework in frameworks.registered():
        if not framework.converts:
            continue
        quoted = re.compile(rf"[\"']{framework.name}[\"']")
        naming = {p for p in SRC.rglob("*.py") if quoted.search(p.read_text())}
        # the module's place in the source tree (CI imports an installed copy, not SRC)
        own = importlib.import_module(frameworks._MODULES[framework.name], frameworks.__name__).__file__
        installed = pathlib.Path(gptspec.__file__).resolve().parent
        allowed = {registry, SRC / pathlib.Path(own).resolve().relative_to(installed)}
        if framework.name == "torch":  # the torch-only conventions (issue 21, item 2: a Convention record)
            allowed.add(SRC / "verification" / "conventions" / "__init__.py")
            # the torch model families' one look at torch: among the loaded modules, to recognise a
            # model without importing it (issue 21 still open: a Family could ask its Framework instead)
            allowed.add(SRC / "ecosystem" / "torch_classes.py")
        assert naming <= allowed, sorted(str(p.relative_to(SRC)) for p in naming - allowed)


def test_a_jax_target_gets_jax_arrays_in_either_layout_and_its_arrays_come_back_as_numpy(jax64):
    jnp = jax64.numpy
    seen = []

    class Target:
        @staticmethod
        def unembed(E, W_U):
            seen.append((type(E), E.dtype, E.shape))
            return W_U @ E

        @staticmethod
        def sample(logits, temperature, rng):
            return jnp.argmax(logits)  # a 0-d integer array stands for the int

    E, W_U = np.arange(6.0).reshape(3, 2), np.arange(12.0).reshape(4, 3)
    for x64, dtype in ((True, np.float64), (False, np.float32)):
        jax64.config.update("jax_enable_x64", x64)
        adapted = adapt(Target, ("unembed", "sample"), framework="jax")
        out = adapted.unembed(E, W_U)
        assert seen[-1] == (type(jnp.zeros(1)), dtype, (3, 2)) and isinstance(out, np.ndarray)
        np.testing.assert_allclose(out, W_U @ E)
        assert out.flags.writeable and adapted.sample(np.array([0.0, 2.0, 1.0]), 0.0, None) == 1
        assert adapted.assume == (() if x64 else ("float32",))  # the dtype JAX computes in, declared
    rows = adapt(types.SimpleNamespace(unembed=lambda E, W_U: E @ W_U), ("unembed",), layout="rows", framework="jax")
    np.testing.assert_allclose(rows.unembed(E, W_U), W_U @ E, rtol=1e-6)  # E [ctx d_model] @ W_U [d_model vocab]


def test_a_jax_module_or_a_jitted_function_is_detected_as_jax(jax64, tmp_path):
    module = tmp_path / "uses_jnp.py"
    module.write_text("import jax.numpy as jnp\n\ndef unembed(E, W_U):\n    return W_U @ E\n")
    assert detect_framework(load(module).obj, ("unembed",)) == "jax"
    plain = tmp_path / "plain_code.py"  # imports nothing: only its jitted function is JAX's
    plain.write_text("def unembed(E, W_U):\n    return W_U @ E\n")
    unembed = load(plain).obj.unembed
    assert detect_framework(types.SimpleNamespace(unembed=unembed), ("unembed",)) == "numpy"
    assert detect_framework(types.SimpleNamespace(unembed=jax64.jit(unembed)), ("unembed",)) == "jax"


def test_framework_jax_gives_jax_arrays_to_a_module_that_does_not_import_jax(tmp_path):
    pytest.importorskip("jax")
    target = tmp_path / "duck_typed.py"
    target.write_text("def sample(logits, temperature, rng):\n"
                      "    return int(type(logits).__module__.split('.')[0] == 'jaxlib')\n")
    for framework, answer in ((None, 0), ("jax", 1)):
        with TargetProcess(Setup(address(target), framework=framework, timeout=SLOW_CALLS)) as process:
            assert process.call("sample", (np.zeros(2), 1.0, np.random.default_rng(0)), {}) == answer


def test_the_jax_framework_without_jax_installed_says_how_to_get_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "jax", None)  # what `import jax` meets when it is absent
    with pytest.raises(TargetError, match=r"the jax framework needs JAX: pip install 'gptspec\[jax\]'"):
        adapt(types.SimpleNamespace(softmax=None), ("softmax",), framework="jax")


def test_a_counterexample_is_headed_with_what_the_framework_gives():
    def heading(framework: str) -> str:
        return Failure("does not hold", "m", None, [], "r", layout="rows", framework=framework).heading

    assert heading("jax") == ("minimal counterexample (rows layout, as your functions receive these JAX arrays: "
                              "tokens are rows):")
    assert "these torch tensors" in heading("torch") and "these arrays" in heading("numpy")


SOME = ["agreement.multi_head_attention", "causality.masked_entries_zero", "causality.columns_sum_to_one",
        "embedding.invalid_tokens_rejected"]
"""A few properties, among them the planted bugs' (each JAX property costs ~15 s: compiles per new shape)."""


@pytest.mark.parametrize("example, layout, declared",
                         [("jax_gpt.py", "columns", ()), ("jax_rows.py", "rows", ("float32",))])
def test_the_jax_examples_pass_in_float64_with_64_bit_mode_and_in_float32_declared_without(example, layout, declared):
    pytest.importorskip("jax")
    report = verify(EXAMPLES / example, layout=layout, profile="quick", seed=0, only=SOME, timeout=SLOW_CALLS)
    assert report.framework == "jax" and report.missing == ("multi_head_attention_cached", "forward_cached")
    assert {r.status for r in report.results} == {"passed"}, [(r.name, r.failure) for r in report.failures()]
    assert report.assumptions == declared and report.exit_code == 0


JAX_CATCHES = {
    "jax_bug_token_clamps.py": "embedding.invalid_tokens_rejected",
    "jax_bug_mask_constant.py": "causality.masked_entries_zero",
    "jax_bug_softmax_wrong_axis.py": "causality.columns_sum_to_one",
}


def test_every_planted_jax_bug_is_listed_with_the_property_that_catches_it():
    assert sorted(p.name for p in BUGS.glob("jax_bug_*.py")) == sorted(JAX_CATCHES)


@pytest.mark.parametrize("example, prop", sorted(JAX_CATCHES.items()))
def test_a_planted_jax_bug_fails_on_the_property_meant_to_catch_it(example, prop):
    pytest.importorskip("jax")
    report = verify(BUGS / example, profile="quick", seed=0, only=[prop], timeout=SLOW_CALLS)
    (result,) = report.results
    assert result.status == "failed", (result.status, result.failure)
    assert report.framework == "jax" and report.exit_code == 1
    assert f"--framework jax --profile quick --timeout {SLOW_CALLS:g} --only {prop}" in result.failure.reproduce


def test_check_refuses_a_jax_target_saying_how_jax_checks_shapes(tmp_path, capsys):
    pytest.importorskip("jax")
    from gptspec.cli import main

    module = tmp_path / "uses_jax.py"
    module.write_text("import jax.numpy as jnp\n\ndef unembed(E, W_U):\n    return W_U @ E\n")
    assert main(["check", "--target", str(module)]) == 2
    assert "uses jax; check runs NumPy implementations on shape-only arrays (for JAX, jax.eval_shape" in \
        capsys.readouterr().err


def test_the_verifier_imports_neither_torch_nor_jax_for_a_numpy_or_a_jax_target(tmp_path):
    pytest.importorskip("jax")
    script = textwrap.dedent(f"""
        import sys
        from gptspec.cli import main
        if __name__ == "__main__":
            codes = [main(["verify", "{EXAMPLES}/numpy_rows.py", "--layout", "rows", "--profile", "quick",
                           "--only", "causality.mask_is_upper_triangle", "--jobs", "1"]),
                     main(["verify", "{EXAMPLES}/jax_gpt.py", "--profile", "quick", "--timeout", "{SLOW_CALLS}",
                           "--only", "causality.mask_is_upper_triangle", "--jobs", "1"])]
            print(codes, "torch" in sys.modules, "jax" in sys.modules)
    """)
    path = tmp_path / "run_two.py"
    path.write_text(script)
    done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=300, check=False)
    assert done.stdout.strip().splitlines()[-1] == "[0, 0] False False", done.stdout[-2000:] + done.stderr[-2000:]


def test_a_jax_kernel_in_the_sdpa_convention_gets_jax_arrays_and_declares_float32(jax64, tmp_path):
    jax64.config.update("jax_enable_x64", False)
    kernel = tmp_path / "jax_kernel.py"
    kernel.write_text(textwrap.dedent("""
        import jax.numpy as jnp
        SEEN = []

        def attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None):
            SEEN.append(type(query).__module__.split(".")[0])
            z = jnp.exp(query @ jnp.swapaxes(key, -1, -2) / query.shape[-1] ** 0.5)
            return z / z.sum(-1, keepdims=True) @ value
    """))
    from gptspec.verification.conventions import adapt_convention

    module, _ = load_object(kernel)
    adapted = adapt_convention("sdpa", module.attention, label="jax_kernel.py:attention", framework=None,
                               guard=lambda name, fn: fn)
    q = np.random.default_rng(0).normal(size=(1, 2, 3, 4))
    out = adapted.sdpa_kernel(q, q, q)
    assert adapted.framework == "jax" and adapted.assume == ("float32",) and module.SEEN == ["jaxlib"]
    assert isinstance(out, np.ndarray) and out.shape == (1, 2, 3, 4) and out.dtype == np.float32
