"""Probe: shrink the decoder's log-mel towards each bin's mean over the sentence before the vocoder,
mel' = mean + MEL_ALPHA (mel - mean), to undo the over-contrast `probe_dispersion.py` measured (the output's
slow, 5-frame-smoothed dispersion is ~1.17x the ground truth's; copy-synthesis gives 0.98x, so the decoder adds
it). Run as `python probe_contrast.py eval-model ...` with MEL_ALPHA in the environment (1 = the shipped path).
"""
import os
import sys

from deepasmr.flow.decoder import FlowDecoder

ALPHA = float(os.environ.get("MEL_ALPHA", "1"))
orig_generate = FlowDecoder.generate


def generate(self, *a, **k):
    mel = orig_generate(self, *a, **k)
    mean = mel.mean(dim=-1, keepdim=True)
    return mean + ALPHA * (mel - mean)


FlowDecoder.generate = generate

from deepasmr.cli import main  # noqa: E402

sys.argv = ["deepasmr"] + sys.argv[1:]
main()
