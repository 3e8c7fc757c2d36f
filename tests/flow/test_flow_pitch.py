"""The decoder's F0 condition: the harmonic comb it is shown, where training shows it, and how inference takes it."""

from __future__ import annotations

import librosa
import pytest
import torch
from flow_helpers import Recorder, make_batch

from deepasmr.audio import MEL_PRESETS
from deepasmr.flow import FlowDecoder
from deepasmr.flow.io import load_flow, save_flow
from deepasmr.flow.pitch import UNKNOWN_F0, harmonic_comb, pitch_features
from deepasmr.flow.stage import FlowStageConfig, build_model

MEL = MEL_PRESETS["tiny"]


def _bin_at(hz: float) -> int:
    centres = librosa.mel_frequencies(MEL.n_mels + 2, fmin=MEL.fmin, fmax=MEL.fmax)[1:-1]
    return int(abs(centres - hz).argmin())


def test_the_comb_peaks_on_the_harmonics_and_is_empty_when_unvoiced():
    comb = harmonic_comb(torch.tensor([[200.0, 0.0]]), MEL)[0]
    assert comb.shape == (2, MEL.n_mels)
    for k in (2, 3, 4):  # a harmonic's bin stands above the bin half-way to the next one
        assert comb[0, _bin_at(200.0 * k)] > comb[0, _bin_at(200.0 * k + 100.0)] + 0.5
    assert torch.all(comb[1] == 0)
    features = pitch_features(torch.tensor([[200.0, 0.0, UNKNOWN_F0]]), MEL)[0]
    assert features[:, -2:].tolist() == [[1.0, 1.0], [1.0, 0.0], [0.0, 0.0]]  # [known, voiced]
    assert torch.all(features[2] == 0)  # unknown: the same input as a decoder without F0


def test_training_shows_f0_on_target_frames_only(small_cfg, clip_mel):
    torch.manual_seed(0)
    cfg = small_cfg.with_(pitch_cond=True, pitch_drop_prob=0.0, cfg_drop_prob=0.0, prompt_min=0.2, prompt_max=0.3)
    model = FlowDecoder(cfg)
    model.net = Recorder()
    batch = make_batch(clip_mel, cfg, batch_size=2)
    batch["f0"] = torch.full(batch["mel"].shape[::2], 120.0)
    packed, _ = model.training_layout(batch)
    model.flow_loss(packed)
    f0 = model.net.inputs["f0"]
    assert torch.all(f0[packed.prompt] == UNKNOWN_F0) and packed.prompt.any()
    assert torch.all(f0[packed.mask & ~packed.prompt] == 120.0)
    model = FlowDecoder(cfg.with_(pitch_drop_prob=1.0))
    model.net = Recorder()
    model.flow_loss(model.training_layout(batch)[0])
    assert model.net.inputs["f0"] is None  # dropped: the decoder learns to work without F0 too


def test_f0_steers_the_output_once_learned_and_unknown_f0_is_no_f0(small_cfg, clip_mel):
    cfg = small_cfg.with_(pitch_cond=True)
    torch.manual_seed(2)
    model = FlowDecoder(cfg)
    torch.nn.init.normal_(model.net.final.proj.weight, std=0.1)  # an untrained decoder outputs zeros
    tokens, prompt = torch.randint(cfg.vocab_size, (12,)), clip_mel[:, :40]
    kw = dict(seed=3, steps=2)
    low = model.generate(tokens, prompt, f0=torch.full((48,), 100.0), **kw)
    assert torch.equal(low, model.generate(tokens, prompt, **kw))  # the projection starts at zero
    torch.nn.init.normal_(model.net.pitch_proj.weight, std=0.5)
    low = model.generate(tokens, prompt, f0=torch.full((48,), 100.0), **kw)
    high = model.generate(tokens, prompt, f0=torch.full((48,), 200.0), **kw)
    assert not torch.allclose(low, high, atol=1e-3)
    unknown = model.generate(tokens, prompt, f0=torch.full((48,), UNKNOWN_F0), **kw)
    assert torch.allclose(unknown, model.generate(tokens, prompt, **kw), atol=1e-5)


def test_f0_is_refused_where_it_cannot_apply(small_cfg, clip_mel):
    tokens, prompt = torch.randint(small_cfg.vocab_size, (12,)), clip_mel[:, :40]
    with pytest.raises(ValueError, match="without F0"):
        FlowDecoder(small_cfg).generate(tokens, prompt, f0=torch.full((48,), 100.0), steps=1)
    with pytest.raises(ValueError, match="47 frames"):
        FlowDecoder(small_cfg.with_(pitch_cond=True)).generate(tokens, prompt, f0=torch.zeros(47), steps=1)


def test_fine_tuning_adds_the_f0_projection_at_zero(small_cfg, tmp_path, clip_mel):
    torch.manual_seed(1)
    start = FlowDecoder(small_cfg)
    torch.nn.init.normal_(start.net.final.proj.weight, std=0.1)  # an untrained decoder outputs zeros
    save_flow(start, tmp_path / "start")
    cfg = FlowStageConfig(model=small_cfg.with_(pitch_cond=True), init_from=str(tmp_path / "start"))
    tuned = build_model(cfg, None).decoder
    assert torch.all(tuned.net.pitch_proj.weight == 0)
    save_flow(tuned, tmp_path / "tuned")
    tokens, prompt = torch.randint(small_cfg.vocab_size, (12,)), clip_mel[:, :40]
    reloaded = load_flow(tmp_path / "tuned")
    before = load_flow(tmp_path / "start").generate(tokens, prompt, seed=0, steps=2)
    after = reloaded.generate(tokens, prompt, seed=0, steps=2, f0=torch.full((48,), 150.0))
    assert torch.allclose(before, after, atol=1e-5)  # nothing learned yet: the start's output


def test_train_only_the_f0_projection_leaves_output_without_f0_unchanged(small_cfg, tmp_path, clip_mel):
    """FlowStageConfig.train_only: fine-tuning only the F0 projection moves it and nothing else, so a decoder not
    told F0 (whispered output) decodes exactly as the start did."""
    torch.manual_seed(3)
    start = FlowDecoder(small_cfg)
    torch.nn.init.normal_(start.net.final.proj.weight, std=0.1)
    save_flow(start, tmp_path / "start")
    cfg = FlowStageConfig(model=small_cfg.with_(pitch_cond=True, pitch_drop_prob=0.0, cfg_drop_prob=0.0),
                          init_from=str(tmp_path / "start"), train_only=["net.pitch_proj."])
    model = build_model(cfg, None)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable == {"decoder.net.pitch_proj.weight"}
    batch = make_batch(clip_mel, cfg.model, batch_size=2)
    batch["f0"] = torch.full(batch["mel"].shape[::2], 150.0)
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    for _ in range(3):
        opt.zero_grad()
        model(batch)["loss"].backward()
        opt.step()
    assert model.decoder.net.pitch_proj.weight.abs().sum() > 0
    tokens, prompt = torch.randint(small_cfg.vocab_size, (12,)), clip_mel[:, :40]
    before = load_flow(tmp_path / "start").generate(tokens, prompt, seed=0, steps=2)
    assert torch.allclose(model.decoder.generate(tokens, prompt, seed=0, steps=2), before, atol=1e-5)
    model.train()
    opt.zero_grad()
    batch.pop("f0")  # no item told F0: nothing trainable is reached, and the step must not fail
    loss = model(batch)["loss"]
    loss.backward()
    assert loss.requires_grad and float(model.decoder.net.pitch_proj.weight.grad.abs().sum()) == 0.0
    with pytest.raises(Exception, match="names none"):
        build_model(FlowStageConfig(model=small_cfg, init_from=str(tmp_path / "start"), train_only=["nope."]), None)
