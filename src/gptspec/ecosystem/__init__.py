"""The ecosystem's own layouts and models, mapped exactly onto the spec's.

The spec states every tensor in the video's orientation (columns are tokens, weights act on the
left, per-head weights stacked ``[n_heads d_head d_model]``). The code people want checked stores
the same numbers in the ecosystem's layouts: nanoGPT's fused ``nn.Linear``, Hugging Face GPT-2's
``Conv1D``, Llama-style separate projections, TransformerLens' per-head ``W_Q [n_heads d_model
d_head]``. This package says, once, how one becomes the other:

- :mod:`.layouts`: the spec's attention weights as each layout's parameters (NumPy only: no
  torch import), used by the module conventions and by the whole models;
- :mod:`.hf_gpt2` and :mod:`.tl_gpt2`: Hugging Face's ``GPT2LMHeadModel`` and TransformerLens'
  native GPT-2 as targets providing the spec's model functions (``hf:gpt2``, ``tl:gpt2``, loaded by
  :mod:`gptspec.target`), imported only when named and only in the target's process (they import
  torch and their library at once); :mod:`.models` is what the two share (the per-dims cache).

Depends on :mod:`gptspec.spec` alone (and, lazily, on torch, transformers, transformer-lens).
"""
