"""The batch family: torch's SDPA and a NumPy port satisfy it, and every planted kernel bug is found."""

from .conventions import PROVIDES, REFERENCES
from .planting import family_tests

test_reference_satisfies, test_planted_bug_is_found, test_planted_bug_needs_what_it_is_marked_with = family_tests(
    "batch", REFERENCES, PROVIDES
)
