"""The F0 predictor: speech tokens -> voicing and pitch per mel frame, for the flow decoder's pitch condition."""

from deepasmr.pitch.model import PitchConfig, PitchPredictor, load_pitch, save_pitch

__all__ = ["PitchConfig", "PitchPredictor", "load_pitch", "save_pitch"]
