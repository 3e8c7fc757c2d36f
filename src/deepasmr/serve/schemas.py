"""Request bodies. `SpeechRequest` is the OpenAI speech API's shape plus DeepASMR's own fields.

Strict types: a number where text belongs (or text where a number belongs) is refused, not coerced. Fields
this server does not know are ignored, so OpenAI clients that send newer fields keep working.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Format = Literal["wav", "flac", "mp3", "opus", "pcm"]
Style = Literal["asmr", "normal"]


class VoiceObject(BaseModel):
    """OpenAI's custom-voice form: {"id": "voice_..."}."""

    model_config = ConfigDict(strict=True, extra="ignore")
    id: str


class SpeechRequest(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", json_schema_extra={"examples": [
        {"model": "deepasmr", "input": "Close your eyes and listen.", "voice": "default", "style": "asmr",
         "response_format": "wav"}]})

    model: str = Field("deepasmr", description="Any name; one model is served (OpenAI clients must send one).")
    input: str = Field(description="The text to speak (English or Mandarin).")
    voice: str | VoiceObject = Field(description="A registered voice id, a pool speaker id, or 'default'.")
    response_format: Format = Field("mp3", description="Audio format (OpenAI's default is mp3).")
    speed: float = Field(1.0, description="Playback speed, 0.25..4.0 (pitch kept).")
    instructions: str | None = Field(None, description="Accepted for OpenAI compatibility; ignored (use style).")
    stream_format: Literal["audio", "sse"] | None = Field(None, description="Only 'audio' (the whole file).")
    style: Style = Field("asmr", description="Output style: asmr (whispered) or normal.")
    seed: int | None = Field(None, ge=0, le=2**31 - 1, description="Same seed, same output.")
    steps: int | None = Field(None, description="Flow-matching ODE steps (default: the model's).")
    iterations: int = Field(1, description="Iterative refinement passes (DESIGN.md §7).")
    candidates: int | None = Field(None, description="LM token samples per sentence; the one that reads closest "
                                   "to the text is spoken (default: the server's, 8; 1 is fastest).")
    phone_guidance: float | None = Field(None, ge=0, description="How hard the flow decoder is pulled towards the "
                                         "text's phones (default: the model's; 0 saves a third of its time).")
    lang: Literal["en", "zh"] | None = Field(None, description="Text language (default: detected).")

    @property
    def voice_id(self) -> str:
        return self.voice.id if isinstance(self.voice, VoiceObject) else self.voice
