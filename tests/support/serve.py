"""A real OpenAI-compatible server for tests: `transformers serve` with the offline SmolLM2.

`transformers serve` cannot load the GGUF itself, so the weights are dequantized once into
a plain Llama folder (load with `gguf_file`, copy the state dict into `LlamaForCausalLM`
built from the same config without its quantization entry, save model and tokenizer).
"""

from __future__ import annotations

import sys
import urllib.request
from pathlib import Path

from tests.support.processes import LoggedProcess, free_port, wait_for

CONVERT = """
import sys
from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaConfig, LlamaForCausalLM
from worker.models.sources import generation_source

source = generation_source("", "")
tokenizer = AutoTokenizer.from_pretrained(source.location, gguf_file=source.gguf_file)
quantized = AutoModelForCausalLM.from_pretrained(source.location, gguf_file=source.gguf_file)
config = quantized.config.to_dict()
config.pop("quantization_config", None)
config.pop("model_type", None)
config["architectures"] = ["LlamaForCausalLM"]
model = LlamaForCausalLM(LlamaConfig(**config))
model.load_state_dict(quantized.state_dict())
model.save_pretrained(sys.argv[1])
tokenizer.save_pretrained(sys.argv[1])
"""


def dequantized_smollm2(folder: Path) -> Path:
    """The offline SmolLM2 GGUF as a safetensors folder `transformers serve` can load."""
    if not (folder / "model.safetensors").is_file():
        import subprocess

        subprocess.run([sys.executable, "-c", CONVERT, str(folder)], check=True,
                       cwd=Path(__file__).resolve().parents[2], capture_output=True)
    return folder


class OpenAIServer:
    """`transformers serve` on a free loopback port, preloaded with one model folder."""

    def __init__(self, model_folder: Path, env: dict[str, str]) -> None:
        self.model = str(model_folder)
        self.port = free_port()
        executable = Path(sys.executable).with_name("transformers")
        self.process = LoggedProcess(
            [str(executable), "serve", self.model, "--host", "127.0.0.1", "--port",
             str(self.port), "--device", "cpu"], env, "transformers-serve")
        wait_for(self._healthy, 180, interval=0.5, what="transformers serve /health")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def _healthy(self) -> bool:
        if self.process.process.poll() is not None:
            raise RuntimeError(f"transformers serve exited:\n{self.process.output[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=2):
                return True
        except OSError:
            return False

    def stop(self) -> None:
        self.process.stop()
