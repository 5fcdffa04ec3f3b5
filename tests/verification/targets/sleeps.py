"""A softmax that sleeps forever in Python."""

import time


def softmax(x, temperature=1.0, axis=-1):
    while True:
        time.sleep(1)
