"""A package in minGPT's public structure (mingpt.model, mingpt.utils), written for gptspec's tests."""
