"""Generation through any OpenAI-compatible server (vLLM, TGI, llama.cpp, Ollama,
`transformers serve`), so a shop with its own GPU cluster uses its own engine.

The server does the batching; this side only keeps up to `concurrency` requests in flight.
Timeouts and retries (connection errors, 408/409/429/5xx with backoff) are the `openai`
client's own. Each request carries its seed, so servers that honour seeds reproduce it.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor

from worker.generation.engine import TOP_P, GenerationOutput, GenerationRequest, whole_sentences
from worker.models.sources import ModelLoadError, ModelSource

log = logging.getLogger("vitrine.openai_backend")


class OpenAICompatibleBackend:
    """`submit(request) -> Future[GenerationOutput]`, like the in-process batcher."""

    def __init__(self, *, base_url: str, model: str, api_key: str, timeout_s: float,
                 max_retries: int, concurrency: int) -> None:
        from openai import OpenAI

        self.client = OpenAI(base_url=base_url, api_key=api_key or "not-needed",
                             timeout=timeout_s, max_retries=max_retries)
        self.model = model
        self.source = ModelSource(base_url, model, "openai-compatible",
                                  "VITRINE_OPENAI_BASE_URL")
        self._pool = ThreadPoolExecutor(max_workers=concurrency,
                                        thread_name_prefix="openai-backend")

    def check(self) -> None:
        """Fail at start-up, naming the setting, when the server or the model is missing."""
        try:
            served = [m.id for m in self.client.models.list().data]
        except Exception as exc:
            raise ModelLoadError(
                f"VITRINE_OPENAI_BASE_URL={self.source.location!r}: server not reachable: {exc}"
            ) from exc
        if served and self.model not in served:
            log.warning("event=model_not_listed model=%s served=%s", self.model, served[:5])

    def submit(self, request: GenerationRequest) -> Future:
        future = self._pool.submit(self._complete, request)
        return future

    def _complete(self, request: GenerationRequest) -> GenerationOutput:
        response = self.client.chat.completions.create(
            model=self.model, messages=request.messages, max_tokens=request.max_new_tokens,
            temperature=request.temperature, top_p=TOP_P if request.temperature > 0 else 1.0,
            seed=request.seed,
        )
        choice = response.choices[0]
        text = choice.message.content or ""
        if request.one_sentence:
            text = whole_sentences(text)
        tokens = response.usage.completion_tokens if response.usage else len(text.split())
        finish = "length" if choice.finish_reason == "length" else "stop"
        return GenerationOutput(text=text, tokens=tokens, finish_reason=finish, batch_size=1)
