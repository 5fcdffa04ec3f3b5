"""Bug: a negative token id is not refused; NumPy indexing wraps it around.

``W_E[tokens]`` with token −1 silently returns the embedding of the last token of the
vocabulary (picoGPT does exactly this). The spec requires ids outside [0, vocab) to raise.

    gptspec verify examples/bug_token_wraps.py --layout rows
"""


def embed(tokens, W_E):
    return W_E[tokens]  # BUG: no check that 0 <= id < vocab
