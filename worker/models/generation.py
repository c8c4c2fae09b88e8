"""The causal LM for generation jobs (SmolLM2-135M-Instruct GGUF by default)."""

from __future__ import annotations

import logging
import time

from worker.models.sources import ModelLoadError, ModelSource

log = logging.getLogger(__name__)


class Generator:
    """A loaded tokenizer and causal LM, ready for left-padded batched generation."""

    def __init__(self, *, model, tokenizer, source: ModelSource, device: str) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.source = source
        self.device = device

    @classmethod
    def load(cls, source: ModelSource, device: str) -> Generator:
        started = time.perf_counter()  # includes the import: it is most of the cost
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        extra = {"gguf_file": source.gguf_file} if source.gguf_file else {}
        # Half precision on CUDA; on CPU fp16 matmuls are slow, so stay in float32 there.
        dtype = torch.float16 if device == "cuda" else torch.float32
        try:
            tokenizer = AutoTokenizer.from_pretrained(source.location, **extra)
            model = AutoModelForCausalLM.from_pretrained(source.location, dtype=dtype, **extra)
        except Exception as exc:
            raise ModelLoadError(
                f"{source.setting}: cannot load generation model {source.location!r}: {exc}"
            ) from exc
        model.to(device).eval()
        tokenizer.padding_side = "left"
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        log.info("event=model_loaded kind=generation name=%s device=%s seconds=%.2f",
                 source.name, device, time.perf_counter() - started)
        return cls(model=model, tokenizer=tokenizer, source=source, device=device)
