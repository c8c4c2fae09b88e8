"""Model loading: one module per model family and the per-process registry."""
