"""A softmax that adds 1e-3 to one entry on every tenth call: the same input, different answers."""

from gptspec import impl

calls = 0


def softmax(x, temperature=1.0, axis=-1):
    global calls
    calls += 1
    p = impl.softmax(x, temperature, axis)
    if calls % 10 == 0:
        p.reshape(-1)[0] += 1e-3
    return p
