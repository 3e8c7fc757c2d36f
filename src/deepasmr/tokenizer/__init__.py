"""Speech tokenizer: log-mel -> discrete tokens (FSQ) trained with CTC over phones and a style head."""

from deepasmr.tokenizer.config import TokenizerConfig, TokenizerDataConfig, TokenizerModelConfig
from deepasmr.tokenizer.fsq import FSQ

__all__ = ["FSQ", "TokenizerConfig", "TokenizerDataConfig", "TokenizerModelConfig"]
