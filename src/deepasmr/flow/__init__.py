"""Stage 2: the conditional flow-matching decoder (speech tokens + speaker prompt -> log-mel)."""

from deepasmr.flow.config import FLOW_PRESETS, FlowConfig, flow_config
from deepasmr.flow.decoder import FlowDecoder

__all__ = ["FLOW_PRESETS", "FlowConfig", "FlowDecoder", "flow_config"]
