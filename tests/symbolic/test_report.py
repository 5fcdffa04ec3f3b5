import numpy as np
import pytest

from gptspec import GPT3, Config
from gptspec.symbolic.forward import check_forward
from gptspec.symbolic.report import human_bytes, layer_events, observed_flow, render_flow, render_memory


@pytest.fixture(scope="module")
def gpt3_run():
    return check_forward(GPT3)


def _rows(run):
    return list(observed_flow(layer_events(run.recorder.events)))


def test_the_flow_of_a_gpt3_block_names_each_observed_shape(gpt3_run):
    rows = _rows(gpt3_run)
    seen = {(r.step.strip(), r.dims, r.shape) for r in rows}
    assert ("matmul", "[n_heads d_head ctx]", (96, 128, 2048)) in seen  # Q, K, V of every head at once
    assert ("matmul", "[n_heads ctx ctx]", (96, 2048, 2048)) in seen  # the scores
    assert ("matmul", "[d_mlp ctx]", (49152, 2048)) in seen
    assert ("multi_head_attention →", "[d_model ctx]", (12288, 2048)) in seen
    assert rows[0].step == "block (composed)" and rows[-1].step == "block →"


def test_a_size_two_dims_share_is_shown_with_both_names():
    config = Config(vocab=11, d_model=8, n_heads=2, d_head=4, n_ctx=8, n_layers=1, d_mlp=16)
    rows = _rows(check_forward(config))  # ctx = n_ctx = d_model = 8
    assert all(r.dims == "[d_model ctx]" for r in rows if r.tensor == "E")  # arguments: the spec's dims
    assert any(r.step.strip() == "matmul" and r.dims == "[n_heads d_head d_model|ctx]" for r in rows)


def test_calls_only_drops_the_operations(gpt3_run):
    text = render_flow(_rows(gpt3_run), calls_only=True)
    assert "matmul" not in text and "multi_head_attention (reference)" in text


def test_memory_gives_weights_and_activations_per_dtype(gpt3_run):
    half = check_forward(GPT3, dtype=np.float16)
    text = render_memory([gpt3_run, half], peak_rss=50_000_000, seconds=0.25)
    assert "float32" in text and "float16" in text
    assert "700.9 GB" in text and "350.4 GB" in text  # 175,217,098,752 parameters × 4 and × 2 bytes
    assert human_bytes(gpt3_run.recorder.peak) in text and human_bytes(half.recorder.peak) in text
    assert "50.0 MB peak RSS" in text


def test_float16_weights_do_not_halve_the_activations(gpt3_run):
    """The reference's softmax works in float32 for float16 input: the pattern's temporaries
    are float32 either way, so halving the float32 figure would understate a float16 run."""
    half = check_forward(GPT3, dtype=np.float16)
    assert half.recorder.peak > gpt3_run.recorder.peak / 2
