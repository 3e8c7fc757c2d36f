"""The paper's measurement toolkit: R_UV (`voicing`), SIM (`deepasmr.speaker.embedding`), WER/CER (`asr`),
per-file analysis (`analyze`) and test-set evaluation (`testset`). Submodules load their heavy
dependencies lazily, so importing this package is cheap."""
