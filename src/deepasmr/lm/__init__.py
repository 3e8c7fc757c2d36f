"""Stage 1 of DeepASMR: the text -> speech-token LM (Qwen2 decoder) with a style token and a task prompt.

Modules: config (LMConfig, presets, special ids), text (phone / BPE ids), layout (the sequence layout and
its packing), model (SpeechLM), sampling (top-k/top-p + repetition-aware), generate (batched, KV cache),
data (training pairs over feature shards), stage (the `deepasmr train lm` entry), io (save / load),
evaluate (teacher-forced accuracy, PER of generated tokens, runaway rate).
"""

from deepasmr.lm.config import LM_PRESETS, STYLES, LMConfig, lm_preset
from deepasmr.lm.generate import LMOutput, LMRequest, generate, length_bounds
from deepasmr.lm.model import SpeechLM
from deepasmr.lm.sampling import DecodeConfig, choose_token, choose_tokens

__all__ = [
    "LM_PRESETS",
    "STYLES",
    "DecodeConfig",
    "LMConfig",
    "LMOutput",
    "LMRequest",
    "SpeechLM",
    "choose_token",
    "choose_tokens",
    "generate",
    "length_bounds",
    "lm_preset",
]
