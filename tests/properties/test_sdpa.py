"""The sdpa family: torch's SDPA and a NumPy port satisfy it, and every planted kernel bug is found."""

from .conventions import PROVIDES, REFERENCES, numpy_kernel, torch_sdpa
from .planting import family_tests

test_reference_satisfies, test_planted_bug_is_found, test_planted_bug_needs_what_it_is_marked_with = family_tests(
    "sdpa", REFERENCES, PROVIDES
)


def test_the_references_run_in_the_framework_their_kernel_is_written_in():
    assert torch_sdpa().framework == "torch" and numpy_kernel().framework == "numpy"
    assert set(torch_sdpa().provides) == {"attention_pattern", "attention_head", "cross_attention_head",
                                          "multi_head_attention", "batched_attention", "sdpa_kernel"}
