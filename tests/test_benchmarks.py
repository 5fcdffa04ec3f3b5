"""benchmarks/run.py compares like with like: torch's side computes what impl.fast computes."""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from gptspec import Config
from gptspec.impl import fast

torch = pytest.importorskip("torch")

spec = importlib.util.spec_from_file_location("gptspec_benchmarks", Path(__file__).parents[1] / "benchmarks" / "run.py")
run = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = run  # its dataclasses look their module up
spec.loader.exec_module(run)

SMALL = Config(vocab=11, d_model=48, n_heads=4, d_head=16, n_ctx=300, n_layers=1, d_mlp=96, name="small")


@pytest.mark.parametrize("ctx", [5, 2 * fast.BLOCK + 3])
def test_torch_sdpa_computes_multi_head_attention(ctx):
    args = run.attention_inputs(SMALL, ctx, np.float32, seed=1)
    want = fast.multi_head_attention(*args)
    got = run.torch_sdpa(torch, *args)().numpy().T
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5 * np.abs(want).max())


@pytest.mark.parametrize("ctx", [5, 2 * fast.BLOCK + 3])
def test_the_attention_cores_agree(ctx):
    E, W_Q, W_K, W_V, _ = run.attention_inputs(SMALL, ctx, np.float32, seed=2)
    core = run.core_inputs(E, W_Q, W_K, W_V)
    ours = run.fast_core(*core)().copy()
    threads = torch.get_num_threads()
    theirs = run.torch_core(torch, *core)().numpy()[0].transpose(0, 2, 1)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-5 * np.abs(theirs).max())
    np.testing.assert_array_equal(run.fast_core(*core, parallel=False)(), ours)  # one thread: the same work
    one = run.torch_core(torch, *core, one_thread=True)().numpy()[0].transpose(0, 2, 1)
    np.testing.assert_allclose(one, theirs, rtol=0, atol=1e-5 * np.abs(theirs).max())
    assert torch.get_num_threads() == threads


def test_the_projections_are_the_ones_multi_head_attention_makes():
    E, W_Q, W_K, W_V, W_O = args = run.attention_inputs(SMALL, 7, np.float32, seed=3)
    qkv, out = run.projections(*args)()
    t_qkv, t_out = (x.numpy() for x in run.torch_projections(torch, *args)())
    assert qkv.shape == (3 * SMALL.n_heads * SMALL.d_head, 7) and out.shape == (SMALL.d_model, 7)
    np.testing.assert_allclose(t_qkv.T, qkv, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(t_out.T, out, rtol=1e-5, atol=1e-6)
    assert run.useful_flops(SMALL, 7) > 2 * 7 * SMALL.d_model * 4 * SMALL.n_heads * SMALL.d_head
