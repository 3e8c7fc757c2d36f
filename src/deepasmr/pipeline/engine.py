"""DeepASMR end to end: validate -> route the task -> per sentence LM -> flow -> vocoder -> join.

Routing follows the paper (DESIGN.md §5-7, deepasmr.speaker.select): the clip's style is its R_UV verdict
unless given; intra-style tasks use the clip as the LM's task prompt, cross-style tasks the nearest pool entry
of the output style. The user's clip is always the flow decoder's speaker prompt. Without a prompt transcript
an intra-style task transcribes the clip with the ASR backend (SpeakConfig.transcribe_prompt; Whisper tiny.en
for English, base for Mandarin) and falls back to the prompt-free LM input (the style token alone) when the ASR
is off, unavailable or hears nothing usable; which one happened is recorded in `notes`.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from deepasmr.errors import TextError
from deepasmr.pipeline.bundle import Bundle, load_bundle
from deepasmr.pipeline.config import DEFAULT_ROUTE, DEFAULT_SPEAK, STYLES, RouteOptions, SpeakConfig, SpeakError
from deepasmr.pipeline.text import check_text, split_text
from deepasmr.pipeline.transcribe import TranscriptCache

Voice = str | os.PathLike | tuple[np.ndarray, int]


@dataclass
class SpeakResult:
    wav: np.ndarray
    sample_rate: int
    task: str
    language: str
    sentences: list[str]
    route: dict
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage, summed over sentences/passes
    n_tokens: list[int] = field(default_factory=list)  # speech tokens per sentence (last pass)
    spans: list[tuple[int, int]] = field(default_factory=list)  # [start, end) samples of each sentence
    iterations: int = 1

    def to_dict(self) -> dict:
        return {"task": self.task, "language": self.language, "sentences": self.sentences, "route": self.route,
                "notes": self.notes, "timings": {k: round(v, 3) for k, v in self.timings.items()},
                "n_tokens": self.n_tokens, "iterations": self.iterations,
                "seconds": round(self.wav.size / self.sample_rate, 3), "sample_rate": self.sample_rate}


class _Clock:
    def __init__(self):
        self.times: dict[str, float] = {}

    def add(self, stage: str, start: float) -> None:
        self.times[stage] = self.times.get(stage, 0.0) + time.perf_counter() - start


class DeepASMR:
    """The four tasks (N2A, A2A, A2N, N2N) of one loaded bundle."""

    def __init__(self, bundle: Bundle, config: SpeakConfig = DEFAULT_SPEAK):
        self.bundle = bundle
        self.config = config
        self.transcripts = TranscriptCache()

    def with_config(self, **changes) -> DeepASMR:
        """This engine under other settings (e.g. candidates=1), sharing its loaded bundle and transcript cache."""
        if not changes or all(getattr(self.config, k) == v for k, v in changes.items()):
            return self
        other = DeepASMR(self.bundle, replace(self.config, **changes))
        other.transcripts = self.transcripts
        return other

    @classmethod
    def load(cls, path: str | os.PathLike | None = None, config: SpeakConfig = DEFAULT_SPEAK) -> DeepASMR:
        """`path`: a bundle folder; None = $DEEPASMR_MODEL or the embedded models/tiny."""
        return cls(load_bundle(path), config)

    @property
    def sample_rate(self) -> int:
        return self.bundle.sample_rate

    def speak(self, text: str, voice: Voice, style: str = "asmr", **kwargs) -> tuple[np.ndarray, int]:
        """Speak `text` in the voice of `voice` (a file path or (wav, sr)) in `style`; returns (wav, sr)."""
        result = self.speak_detailed(text, voice, style, **kwargs)
        return result.wav, result.sample_rate

    # -- validation ----------------------------------------------------------------------------------------
    def check_options(self, style, prompt_style, steps, iterations) -> None:
        """SpeakError for a style, prompt style, step count or pass count this engine does not take."""
        cfg = self.config
        if style not in STYLES:
            raise SpeakError(f"style must be one of {', '.join(STYLES)}, not {style!r}")
        if prompt_style is not None and prompt_style not in STYLES:
            raise SpeakError(f"prompt style must be one of {', '.join(STYLES)}, not {prompt_style!r}")
        if steps is not None and not (isinstance(steps, int) and 1 <= steps <= cfg.max_steps):
            raise SpeakError(f"steps must be an integer in 1..{cfg.max_steps}, not {steps!r}")
        if not (isinstance(iterations, int) and 1 <= iterations <= cfg.max_iterations):
            raise SpeakError(f"iterations must be an integer in 1..{cfg.max_iterations}, not {iterations!r}")

    def _load_voice(self, voice: Voice, workdir: Path) -> tuple[np.ndarray, Path]:
        """The clip at the bundle's rate (validated by deepasmr.audio) and a file path for the router."""
        from deepasmr.audio import load_audio, resample, save_audio, validate_audio
        from deepasmr.errors import AudioError

        sr_out = self.bundle.mel_config.sample_rate
        if isinstance(voice, tuple):
            if len(voice) != 2:
                raise AudioError("voice must be a file path or a (wav, sample_rate) pair")
            wav, sr = np.asarray(voice[0], dtype=np.float32).reshape(-1), int(voice[1])
            validate_audio(wav, sr, "voice clip")
            path = save_audio(workdir / "voice.wav", wav, sr)
            return (resample(wav, sr, sr_out) if sr != sr_out else wav).astype(np.float32), path
        wav, _ = load_audio(voice, sr_out)
        return wav, Path(voice)

    # -- stages ------------------------------------------------------------------------------------------------
    def mel_tokens(self, wav: np.ndarray, crop: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
        """(log-mel [n_mels, T], tokens [N]) of a clip at the bundle's rate; `crop`: to max_prompt_seconds
        (the flow's speaker prompt). The LM's task prompt keeps the whole clip, to match its transcript."""
        from deepasmr.audio import log_mel

        mel = log_mel(wav, self.bundle.mel_config)
        ratio = self.bundle.flow.cfg.token_ratio
        if crop:
            max_frames = int(self.config.max_prompt_seconds * self.bundle.mel_config.frame_rate) // ratio * ratio
            mel = mel[:, :max_frames]
        with torch.no_grad():
            tokens = self.bundle.tokenizer.encode(mel)[0]
        n = min(len(tokens), mel.shape[-1] // ratio)
        return mel[:, : n * ratio], tokens[:n].long()

    def _spk_emb(self, wav: np.ndarray) -> torch.Tensor | None:
        if not self.bundle.flow.cfg.use_spk_emb:
            return None
        from deepasmr.speaker.embedding import embed
        from deepasmr.speaker.pool import single_thread

        with single_thread():
            return torch.as_tensor(embed(wav, self.bundle.mel_config.sample_rate), dtype=torch.float32)

    def _prompt_transcript(self, clip_wav: np.ndarray, lang: str, transcribe: bool, notes: list[str]) -> str | None:
        """The intra-style clip's words by ASR, or None (prompt-free LM input) with the reason in `notes`."""
        from deepasmr.pipeline.transcribe import ASR_FAILURES

        free = "prompt-free LM input (style token alone)"
        if not transcribe:
            notes.append(f"no prompt text for the intra-style clip and prompt transcription is off: {free}")
            return None
        try:
            heard = self.transcripts.get(clip_wav, self.bundle.mel_config.sample_rate, lang, self.config)
        except ASR_FAILURES as err:
            notes.append(f"no prompt text for the intra-style clip and the ASR failed ({err}): {free}")
            return None
        notes.append(f"prompt text transcribed by ASR {heard.model}: {heard.text!r}")
        return heard.text

    def _task_prompt(self, route, lang: str, clip_wav: np.ndarray, clip_tokens: torch.Tensor, notes: list[str],
                     transcribe: bool, prompt_units: list[int] | None = None, pools: dict | None = None
                     ) -> tuple[list, list]:
        """LM (prompt_text ids, prompt_speech ids) for the routed task prompt. `prompt_units`: the intra-style
        clip's transcript as LM text ids already (convert's CTC phones)."""
        from deepasmr.audio import load_audio

        prompt, text_tok = route.task_prompt, self.bundle.text_tokenizer
        if route.mode == "self":
            if prompt_units:
                return list(prompt_units), clip_tokens.tolist()
            if not prompt.text:
                prompt.text = self._prompt_transcript(clip_wav, lang, transcribe, notes)
                if prompt.text is None:
                    return [], []
                return text_tok.encode(prompt.text, lang), clip_tokens.tolist()
            from deepasmr.frontend import detect_language

            return text_tok.encode(prompt.text, detect_language(prompt.text)), clip_tokens.tolist()
        pool = (pools or {}).get(route.output_style)
        tokens = prompt.tokens
        if tokens is None or pool is None or not pool.tokens_from(self.bundle.root):
            notes.append(f"pool entry {route.entry_id}: tokens re-made with this bundle's tokenizer")
            wav, _ = load_audio(prompt.audio, self.bundle.mel_config.sample_rate)
            tokens = self.mel_tokens(wav, crop=False)[1].tolist()
        return text_tok.encode(prompt.text, prompt.language or lang), list(tokens)

    def _pitch_register(self, clip_wav: np.ndarray, routed, notes: list[str], pools: dict, lang: str
                        ) -> float | None:
        """For a decoder told F0, with normal output: the speaker's register for the F0 predictor. The clip's mean
        pitch; for a whispered clip, the normal-speech pitch of the pool voice whose whisper is nearest to it
        (speaker.select.counterpart), else the task prompt's; else the predictor's centre.
        None when no F0 is predicted (no predictor, or whispered output: the decoder is then told nothing)."""
        predictor = self.bundle.pitch
        if predictor is None or routed.output_style != "normal" or not self.bundle.flow_for("normal").cfg.pitch_cond:
            return None
        from deepasmr.audio import load_audio
        from deepasmr.pitch.model import clip_register
        from deepasmr.speaker.embedding import embed
        from deepasmr.speaker.pool import single_thread
        from deepasmr.speaker.select import counterpart

        mel = self.bundle.mel_config
        register, source = clip_register(clip_wav, mel, predictor.cfg), "the voice clip"
        if register is None and routed.clip_style != "normal":
            with single_thread():
                query = embed(clip_wav, mel.sample_rate)
            voice = counterpart(pools, routed.clip_style, query, lang)
            if voice is not None:
                wav, _ = load_audio(pools["normal"].audio_path(voice), mel.sample_rate)
                register = clip_register(wav, mel, predictor.cfg)
                source = f"{voice.speaker}, the pool voice whose whisper is nearest to the clip's"
        if register is None and routed.task_prompt.audio is not None and routed.mode != "self":
            wav, _ = load_audio(routed.task_prompt.audio, mel.sample_rate)
            register, source = clip_register(wav, mel, predictor.cfg), "the task prompt"
        if register is None:
            register, source = 0.0, "a default (no voiced prompt)"
        notes.append(f"F0 predicted around {predictor.cfg.centre_hz * 2**register:.0f} Hz, the register of {source}")
        return register

    def _synthesize(self, texts, references, style, prompt_ids, speaker_wav, seed, steps, clock, notes,
                    register: float | None = None) -> tuple[list, list[int]]:
        from deepasmr.lm.generate import LMRequest
        from deepasmr.lm.rerank import best_of
        from deepasmr.lm.sampling import DecodeConfig, piece_seed

        cfg, b = self.config, self.bundle
        t0 = time.perf_counter()
        spk_mel, spk_tokens = self.mel_tokens(speaker_wav)
        spk_emb = self._spk_emb(speaker_wav)
        clock.add("speaker_prompt", t0)
        decode = DecodeConfig(precision=cfg.precision,
                              **{k: v for k, v in (("temperature", cfg.temperature), ("top_k", cfg.top_k),
                                                   ("top_p", cfg.top_p)) if v is not None})
        requests = [LMRequest(text=t, style=style, prompt_text=prompt_ids[0], prompt_speech=prompt_ids[1])
                    for t in texts]
        t0 = time.perf_counter()
        out, choices = best_of(b.lm, b.tokenizer, requests, references, decode, cfg.candidates, seed=seed)
        clock.add("lm", t0)
        if cfg.candidates > 1:
            notes.append(f"best of {cfg.candidates} token samples per sentence: kept candidate(s) "
                         f"{[c.index for c in choices]}")
        flow = b.flow_for(style)
        noise_scale = cfg.noise_scale if cfg.noise_scale is not None else flow.cfg.noise_scale_for(style)
        cfg_strength = cfg.cfg_strength if cfg.cfg_strength is not None else flow.cfg.cfg_strength_for(style)
        pieces = []
        for i, tokens in enumerate(out.tokens):
            t0 = time.perf_counter()
            tokens = torch.tensor(tokens, dtype=torch.long)
            f0 = None if register is None else b.pitch.generate(tokens, register)
            mel = flow.generate(tokens, spk_mel, spk_tokens, spk_emb,
                                steps=steps if steps is not None else cfg.steps, cfg_strength=cfg_strength,
                                seed=None if seed is None else piece_seed(seed, i), noise_scale=noise_scale,
                                precision=cfg.precision, phones=self._spoken_phones(texts[i], out, i),
                                phone_cfg_strength=cfg.phone_cfg_strength, f0=f0)
            clock.add("flow", t0)
            t0 = time.perf_counter()
            # A vocoder may draw randomness (Vocos random_phase_styles): seeded requests stay reproducible.
            with torch.no_grad(), torch.random.fork_rng(devices=[], enabled=seed is not None):
                if seed is not None:
                    torch.manual_seed(piece_seed(seed, i))
                wav = b.vocoder.generate(mel, style=style, f0=f0).detach().cpu().numpy().astype(np.float32)
            clock.add("vocoder", t0)
            pieces.append(np.nan_to_num(wav))
        return pieces, [len(t) for t in out.tokens]

    def _reference_phones(self, sentences: list[str], ids: list[list[int]], lang: str) -> list[list[int]]:
        """Each piece's phones in the tokenizer's CTC vocabulary (what best-of-N candidates are read against):
        from the LM's own phone ids when its text unit is the phone, else phonemized from the sentence."""
        from deepasmr.lm.text import PhoneTokenizer
        from deepasmr.tokenizer.vocab import UNK

        vocab, text_tok = self.bundle.phone_vocab, self.bundle.text_tokenizer
        if vocab is None or self.config.candidates == 1:
            return [[] for _ in ids]
        if isinstance(text_tok, PhoneTokenizer):
            phones = [text_tok.decode(piece) for piece in ids]
        else:
            from deepasmr.frontend import phonemize

            phones = [phonemize(sentence, lang) for sentence in sentences]
        unknown = vocab.index[UNK]
        return [[i for i in vocab.encode(list(p)) if i != unknown] for p in phones]

    def _spoken_phones(self, text: list[int], out, row: int) -> torch.Tensor | None:
        """The phone each generated token speaks (the LM's text pointer) as the decoder's phone ids; None when
        the decoder takes no phones or the LM has no pointer."""
        vocab = self.bundle.flow.cfg.phone_vocab
        if not vocab or not out.text_positions:
            return None
        index, symbols = {s: i for i, s in enumerate(vocab)}, self.bundle.text_tokenizer.decode(text)
        null = self.bundle.flow.cfg.null_phone
        return torch.tensor([index.get(symbols[p], null) if p < len(symbols) else null
                             for p in out.text_positions[row]], dtype=torch.long)

    def _join(self, pieces: list[np.ndarray]) -> tuple[np.ndarray, list[tuple[int, int]]]:
        sr, cfg = self.sample_rate, self.config
        n_fade = int(cfg.fade_seconds * sr)
        pause = np.zeros(int(cfg.pause_seconds * sr), dtype=np.float32)
        out, spans, at = [], [], 0
        for i, piece in enumerate(pieces):
            piece = piece.copy()
            k = min(n_fade, piece.size // 2)
            if k > 0:
                ramp = np.linspace(0.0, 1.0, k, dtype=np.float32)
                piece[:k] *= ramp
                piece[-k:] *= ramp[::-1]
            if i:
                out.append(pause)
                at += pause.size
            out.append(piece)
            spans.append((at, at + piece.size))
            at += piece.size
        wav = np.concatenate(out) if out else np.zeros(0, dtype=np.float32)
        peak = float(np.max(np.abs(wav))) if wav.size else 0.0
        if peak > cfg.peak_limit:
            wav = wav * (cfg.peak_limit / peak)
        return wav.astype(np.float32), spans

    # -- the request -------------------------------------------------------------------------------------------
    def encode_text(self, text: str, lang: str | None = None) -> tuple[list[str], list[list[int]], str, list[str]]:
        """Checked text -> (sentences, their LM text ids, language, notes); TextError if nothing is speakable."""
        text, lang = check_text(text, lang, self.config)
        sentences, ids, notes = [], [], []
        for sentence in split_text(text, self.config):
            try:
                ids.append(self.bundle.text_tokenizer.encode(sentence, lang))
            except TextError:
                notes.append(f"skipped {sentence[:30]!r}: nothing pronounceable")
                continue
            sentences.append(sentence)
        if not ids:
            raise TextError(f"no pronounceable words in {text[:40]!r} ({lang})")
        return sentences, ids, lang, notes

    def speak_detailed(self, text: str, voice: Voice, style: str = "asmr", *, prompt_text: str | None = None,
                       prompt_style: str | None = None, lang: str | None = None, seed: int | None = None,
                       steps: int | None = None, iterations: int = 1,
                       transcribe_prompt: bool | None = None, route: RouteOptions = DEFAULT_ROUTE) -> SpeakResult:
        """speak() plus the task, route, notes and per-stage timings (SpeakResult). transcribe_prompt:
        override SpeakConfig.transcribe_prompt for this request; route: how a cross-style task prompt is chosen."""
        start = time.perf_counter()
        self.check_options(style, prompt_style, steps, iterations)
        sentences, ids, lang, notes = self.encode_text(text, lang)
        return self.speak_units(sentences, ids, lang, voice, style, prompt_text=prompt_text,
                                prompt_style=prompt_style, seed=seed, steps=steps, iterations=iterations,
                                transcribe_prompt=transcribe_prompt, notes=notes, start=start, route=route)

    def speak_units(self, sentences: list[str], ids: list[list[int]], lang: str, voice: Voice, style: str = "asmr",
                    *, prompt_text: str | None = None, prompt_units: list[int] | None = None,
                    prompt_style: str | None = None, seed: int | None = None, steps: int | None = None,
                    iterations: int = 1, transcribe_prompt: bool | None = None, notes: list[str] | None = None,
                    start: float | None = None, route: RouteOptions = DEFAULT_ROUTE) -> SpeakResult:
        """Synthesise pieces already turned into LM text ids (`ids`, one list per piece; `sentences` label them).
        `prompt_units`: the clip's transcript as LM text ids (used by intra-style tasks before prompt_text)."""
        from deepasmr.speaker.select import route_task

        start = time.perf_counter() if start is None else start
        self.check_options(style, prompt_style, steps, iterations)
        if not ids or len(ids) != len(sentences) or not all(ids):
            raise TextError("nothing to say: give at least one non-empty piece of LM text ids per sentence")
        prompt_text = prompt_text.strip() if prompt_text and prompt_text.strip() else None
        if prompt_text is not None:
            check_text(prompt_text, None, self.config)
        transcribe = self.config.transcribe_prompt if transcribe_prompt is None else bool(transcribe_prompt)
        clock, notes = _Clock(), list(notes or [])
        with tempfile.TemporaryDirectory(prefix="deepasmr-voice-") as tmp:
            clip_wav, clip_path = self._load_voice(voice, Path(tmp))
            t0 = time.perf_counter()
            pools = route.pools or self.bundle.pools
            fixed = None
            if route.fixed_prompt is not None:
                from deepasmr.speaker.select import Prompt

                fixed = Prompt(audio=Path(route.fixed_prompt[0]), text=route.fixed_prompt[1],
                               style=style, language=lang)
            routed = route_task(clip_path, style, clip_text=prompt_text, clip_style=prompt_style, language=lang,
                                mode=route.mode, pools=pools, fixed=fixed)
            clock.add("route", t0)
        notes[:0] = routed.notes
        t0 = time.perf_counter()
        _, clip_tokens = self.mel_tokens(clip_wav, crop=False)
        prompt_ids = self._task_prompt(routed, lang, clip_wav, clip_tokens, notes, transcribe, prompt_units, pools)
        clock.add("task_prompt", t0)
        speaker_wav, n_tokens, spans = clip_wav, [], []
        references = self._reference_phones(sentences, ids, lang)
        register = self._pitch_register(clip_wav, routed, notes, pools, lang)
        for it in range(iterations):
            pieces, n_tokens = self._synthesize(ids, references, style, prompt_ids, speaker_wav, seed, steps, clock,
                                                notes, register)
            speaker_wav, spans = self._join(pieces)
            if it + 1 < iterations:
                notes.append(f"refinement pass {it + 2}: the previous output is the speaker prompt")
        clock.times["total"] = time.perf_counter() - start
        return SpeakResult(wav=speaker_wav, sample_rate=self.sample_rate, task=routed.task, language=lang,
                           sentences=list(sentences), route=routed.to_dict(), notes=notes, timings=clock.times,
                           n_tokens=n_tokens, spans=spans, iterations=iterations)
