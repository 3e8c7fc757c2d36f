"""Speaker identity: embeddings for SIM (`deepasmr.speaker.embedding`) and, later, the virtual speaker pool."""
