"""The generation family: a NumPy generate over the reference satisfies it, and every planted bug
(the argmax of the first column, logits times T, the k + 1 largest kept) is found."""

from .mutants import GENERATORS
from .planting import family_tests

test_reference_satisfies, test_planted_bug_is_found, test_planted_bug_needs_what_it_is_marked_with = family_tests(
    "generation", references={"numpy": lambda: GENERATORS["generate"]}, provides={"numpy": ("generate",)}
)
