"""deepasmr: zero-shot ASMR speech generation (DeepASMR, arXiv 2601.15596), offline."""

__version__ = "0.1.0"
