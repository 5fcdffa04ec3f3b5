"""The decode family: the reference satisfies it, and every planted cache bug is found."""

from .planting import family_tests

test_reference_satisfies, test_planted_bug_is_found, test_planted_bug_needs_what_it_is_marked_with = family_tests(
    "decode"
)
