"""The decode family: the reference satisfies it, and every planted cache bug is found."""

from .planting import family_tests

test_reference_satisfies, test_planted_bug_is_found, test_planted_bug_needs_what_it_is_marked_with = family_tests(
    "decode"
)


def test_a_split_adds_up_and_is_drawn_both_ways():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from gptspec.properties.decode import show_chunks, splits

    seen = set()

    @settings(max_examples=200, database=None, derandomize=True)
    @given(st.integers(1, 6).flatmap(lambda ctx: st.tuples(st.just(ctx), splits(ctx, min_chunks=2))))
    def check(example):
        ctx, sizes = example
        assert sum(sizes) == ctx and min(sizes) >= 1 and (len(sizes) >= 2 or ctx == 1)
        seen.add("steps" if set(sizes[1:]) <= {1} else "uneven")

    check()
    assert seen == {"steps", "uneven"}
    assert show_chunks((2, 1, 2)) == "3 chunks of 2 | 1 | 2 tokens at positions 0–1 | 2 | 3–4"


def test_a_decode_counterexample_names_the_chunks_the_positions_and_the_first_column_that_differs():
    from gptspec.properties.catalogue import get

    from .planting import hunt

    found = str(hunt(get("decode.chunks_equal_forward"), "cache_positions_restart"))
    assert "forward_cached logits column " in found and "token of chunk " in found, found
    assert " chunks of " in found and " tokens at positions 0" in found and "compared with forward(tokens)[:, " in found
    found = str(hunt(get("decode.cache_equals_one_call"), "cache_keys_prepended"))
    assert "at position " in found and "token of chunk " in found and " chunks of " in found, found
    found = str(hunt(get("decode.mha_split_equals_whole"), "cache_mask_top_left"))
    assert "ΔE column " in found and "token of chunk " in found and "agree" in found, found
