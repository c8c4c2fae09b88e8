"""Generation jobs: prompts, a dynamic batcher over one causal LM, and output checks."""
