from gptspec.symbolic import Op, recording, shape_only


def test_live_and_peak_bytes_follow_the_arrays_python_keeps():
    x = shape_only((1000,))  # made before recording: not counted
    with recording() as rec:
        y = x + 1  # 4,000 bytes live
        z = y * 2  # 8,000
        del y  # 4,000
        w = z.T  # a view: nothing more
    assert (rec.live, rec.peak) == (4000, 8000)
    assert [e.name for e in rec.events] == ["add", "multiply", "transpose"]
    assert rec.events[0] == Op("add", ((1000,),), (1000,), x.dtype, True)
    assert not rec.events[2].allocates and w.shape == (1000,)


def test_nothing_is_recorded_outside_a_recording():
    with recording() as rec:
        pass
    shape_only((3,)) + 1
    assert rec.events == [] and rec.peak == 0
