"""A caller and its target process share one core; workers get distinct ones (verification.affinity)."""

from __future__ import annotations

import os

import pytest

from gptspec.verification import verify
from gptspec.verification.affinity import current_cpu, one_core, usable

needs_two_cores = pytest.mark.skipif(len(usable()) < 2, reason="pinning needs sched_setaffinity and two cores")

TARGET = '''
import os, tempfile
from gptspec.impl import causal_mask, softmax
with tempfile.NamedTemporaryFile("w", dir=os.environ["GPTSPEC_TEST_AFFINITY"], delete=False) as f:  # each its own
    f.write(",".join(map(str, sorted(os.sched_getaffinity(0)))))
'''


@needs_two_cores
def test_one_core_pins_this_process_and_gives_its_cores_back():
    before = set(usable())
    with one_core(before and max(before)) as core:
        assert core == max(before) and os.sched_getaffinity(0) == {core}
        assert current_cpu() == core
    assert os.sched_getaffinity(0) == before
    with one_core(10_000) as core:  # not one of ours: nothing changes
        assert core is None and os.sched_getaffinity(0) == before


def affinities_of_target_processes(tmp_path, monkeypatch, jobs):
    record = tmp_path / "record"
    record.mkdir()
    monkeypatch.setenv("GPTSPEC_TEST_AFFINITY", str(record))
    target = tmp_path / "reports_its_cores.py"
    target.write_text(TARGET)
    before = os.sched_getaffinity(0)
    report = verify(str(target), profile="quick", seed=0, jobs=jobs, only=["shapes.softmax", "shapes.causal_mask"])
    assert report.exit_code == 0 and os.sched_getaffinity(0) == before  # this process got its cores back
    return sorted(p.read_text() for p in record.iterdir())


@needs_two_cores
def test_with_one_job_the_target_process_keeps_to_one_core(tmp_path, monkeypatch):
    cores = affinities_of_target_processes(tmp_path, monkeypatch, jobs=1)
    assert len(cores) == 1 and "," not in cores[0]


@needs_two_cores
def test_each_worker_and_its_target_process_get_a_core_of_their_own(tmp_path, monkeypatch):
    cores = affinities_of_target_processes(tmp_path, monkeypatch, jobs=2)
    first, second = usable()[:2]
    assert cores == sorted([str(first), str(second)])
