import pytest

from gptspec import GPT3, Config
from gptspec.symbolic.forward import check_forward
from gptspec.symbolic.report import block_flow, human_bytes, layer_events, render_flow, render_memory


@pytest.fixture(scope="module")
def gpt3_run():
    return check_forward(GPT3)


def _rows(run):
    return list(block_flow(layer_events(run.recorder.events)))


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


def test_memory_gives_weights_and_activations_in_both_dtypes(gpt3_run):
    run = gpt3_run
    text = render_memory(run, peak_rss=50_000_000, seconds=0.25)
    assert "700.9 GB" in text and "350.4 GB" in text  # 175,217,098,752 parameters × 4 and × 2 bytes
    assert human_bytes(run.recorder.peak) in text and "50.0 MB peak RSS" in text
