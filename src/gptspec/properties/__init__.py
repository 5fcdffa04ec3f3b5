"""gptspec.properties: WHY the results are right — Hypothesis properties of any implementation."""
