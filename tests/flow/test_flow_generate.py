"""Inference: output length, seeding, batched classifier-free guidance, time schedule, save/load."""

from __future__ import annotations

import math

import pytest
import torch

from deepasmr.flow import FlowDecoder
from deepasmr.flow.io import load_flow, save_flow
from deepasmr.flow.sampling import guided_velocity, time_grid


@pytest.fixture(scope="module")
def model(small_cfg):
    torch.manual_seed(0)
    m = FlowDecoder(small_cfg.with_(use_spk_emb=True))
    # Zero-initialised output layers would make every velocity 0 and the tests vacuous.
    for p in m.parameters():
        if p.abs().sum() == 0:
            torch.nn.init.normal_(p, std=0.02)
    return m


def test_output_length_is_tokens_times_ratio(model, clip_mel):
    r = model.cfg.token_ratio
    out = model.generate(torch.randint(100, (30,)), clip_mel[:, :70], steps=2, seed=0)
    assert out.shape == (model.cfg.n_mels, 30 * r)
    assert torch.isfinite(out).all()
    # prompt without its tokens, and an empty prompt
    assert model.generate(torch.randint(100, (7,)), clip_mel[:, :0], steps=1).shape == (80, 7 * r)


def test_ragged_batch(model, clip_mel):
    r = model.cfg.token_ratio
    tokens, prompt_tokens = torch.randint(100, (2, 12)), torch.randint(100, (2, 13))
    prompt = clip_mel[:, :50][None].repeat(2, 1, 1)
    out = model.generate(tokens, prompt, prompt_tokens=prompt_tokens, steps=2, seed=1,
                         token_lens=torch.tensor([12, 5]), prompt_lens=torch.tensor([50, 30]),
                         prompt_token_lens=torch.tensor([13, 8]))
    assert out.shape == (2, 80, 12 * r)
    assert torch.all(out[1, :, 5 * r :] == math.log(model.cfg.mel.log_floor))
    # padding does not leak: the first item (same noise stream) comes out as when generated alone
    alone = model.generate(tokens[0], prompt[0], prompt_tokens=prompt_tokens[0], steps=2, seed=1)
    assert torch.allclose(out[0], alone, atol=1e-4)


def test_seed_makes_generation_deterministic(model, clip_mel):
    tokens, prompt = torch.randint(100, (20,)), clip_mel[:, :60]
    a = model.generate(tokens, prompt, steps=3, seed=7)
    b = model.generate(tokens, prompt, steps=3, seed=7)
    c = model.generate(tokens, prompt, steps=3, seed=8)
    assert torch.equal(a, b)
    assert not torch.allclose(a, c)


def test_batched_cfg_equals_separate_passes(model, clip_mel):
    tokens, prompt, spk = torch.randint(100, (2, 16)), clip_mel[:, :40][None].repeat(2, 1, 1), torch.randn(2, 256)
    kw = dict(spk_emb=spk, steps=3, cfg_strength=0.7, seed=3)
    batched = model.generate(tokens, prompt, batched_cfg=True, **kw)
    separate = model.generate(tokens, prompt, batched_cfg=False, **kw)
    assert torch.allclose(batched, separate, atol=1e-5)
    # and guidance does something
    assert not torch.allclose(batched, model.generate(tokens, prompt, **{**kw, "cfg_strength": 0.0}), atol=1e-4)


def test_guidance_interval_guides_only_the_early_steps(model, clip_mel):
    tokens, prompt = torch.randint(100, (16,)), clip_mel[:, :40]
    kw = dict(steps=4, cfg_strength=0.7, seed=5)
    guided, unguided = model.generate(tokens, prompt, **kw), model.generate(tokens, prompt, **{**kw, "cfg_strength": 0})
    assert torch.equal(model.generate(tokens, prompt, cfg_until=1.0, **kw), guided)
    assert torch.equal(model.generate(tokens, prompt, cfg_until=0.0, **kw), unguided)
    # guiding the first steps only lands between the two
    partial = model.generate(tokens, prompt, cfg_until=0.3, **kw)
    assert not torch.allclose(partial, guided, atol=1e-4) and not torch.allclose(partial, unguided, atol=1e-4)
    with pytest.raises(ValueError, match="cfg_until"):
        model.cfg.with_(cfg_until=1.5)


def test_guided_velocity_formula():
    def velocity(x, cond, ids, t, mask, spk, phone_ids=None, f0=None):
        return cond.sum(-1, keepdim=True) + x  # v_null = x, v_cond = x + sum(cond)

    x, cond = torch.randn(1, 5, 3), torch.ones(1, 5, 3)
    ids, mask = torch.zeros(1, 5, dtype=torch.long), torch.ones(1, 5, dtype=torch.bool)
    v = guided_velocity(velocity, x, cond, ids, ids, torch.zeros(1), mask, None, cfg_strength=0.5)
    assert torch.allclose(v, x + 3 + 0.5 * 3)


def test_guided_velocity_adds_the_phone_term():
    def velocity(x, cond, ids, t, mask, spk, phone_ids=None, f0=None):
        return x + cond.sum(-1, keepdim=True) + phone_ids[..., None]  # each condition adds its own part

    x, cond = torch.randn(1, 5, 3), torch.ones(1, 5, 3)
    ids, mask = torch.zeros(1, 5, dtype=torch.long), torch.ones(1, 5, dtype=torch.bool)
    phones = (torch.full((1, 5), 2), torch.zeros(1, 5, dtype=torch.long))
    for batched in (True, False):
        v = guided_velocity(velocity, x, cond, ids, ids, torch.zeros(1), mask, None, cfg_strength=0.5,
                            batched=batched, phones=phones, phone_strength=2.0)
        # v_cond = x + 3 + 2, v_null = x, v_unphoned = x + 3
        assert torch.allclose(v, x + 5 + 0.5 * 5 + 2.0 * 2)
    unguided = guided_velocity(velocity, x, cond, ids, ids, torch.zeros(1), mask, None, cfg_strength=0.0,
                               phones=phones, phone_strength=2.0)
    assert torch.allclose(unguided, x + 5 + 2.0 * 2)  # the phone term does not need the null branch


def test_time_grid_is_cosine_schedule():
    grid = time_grid(10, -1.0)
    assert grid[0] == 0 and torch.isclose(grid[-1], torch.tensor(1.0))
    assert torch.all(grid[1:] > grid[:-1])
    t = torch.linspace(0, 1, 11)
    assert torch.allclose(grid, 1 - torch.cos(math.pi / 2 * t), atol=1e-6)
    assert torch.allclose(time_grid(4, 0.0), torch.linspace(0, 1, 5))


def test_generate_leaves_training_mode_alone(model, clip_mel):
    model.train()
    model.generate(torch.randint(100, (4,)), clip_mel[:, :8], steps=1)
    assert model.training
    model.eval()


def test_speaker_embedding_conditions_output(model, clip_mel):
    tokens, prompt = torch.randint(100, (10,)), clip_mel[:, :30]
    a = model.generate(tokens, prompt, spk_emb=torch.randn(256), steps=2, seed=0)
    b = model.generate(tokens, prompt, spk_emb=torch.randn(256), steps=2, seed=0)
    assert not torch.allclose(a, b)


def test_save_load_roundtrip(model, clip_mel, tmp_path):
    save_flow(model, tmp_path, dtype=torch.float32)
    loaded = load_flow(tmp_path)
    assert loaded.cfg == model.cfg
    tokens, prompt = torch.randint(100, (10,)), clip_mel[:, :30]
    reference = model.generate(tokens, prompt, steps=2, seed=0)
    assert torch.equal(reference, loaded.generate(tokens, prompt, steps=2, seed=0))
    save_flow(model, tmp_path / "fp16")  # the bundle's default: half the bytes, close output
    half = load_flow(tmp_path / "fp16")
    assert torch.allclose(reference, half.generate(tokens, prompt, steps=2, seed=0), atol=0.05)


def test_noise_scale_sets_the_starting_noise(small_cfg, clip_mel):
    # A fresh decoder's output layer is zero, so every velocity is 0 and the ODE returns its starting noise.
    fresh = FlowDecoder(small_cfg)
    tokens, no_prompt = torch.randint(100, (200,)), clip_mel[:, :0]

    def noise(model, **kw):
        return model.normalize(model.generate(tokens, no_prompt, steps=2, seed=0, **kw).T)

    unit, half = noise(fresh), noise(fresh, noise_scale=0.5)
    assert abs(float(unit.std()) - 1.0) < 0.05
    assert torch.allclose(half, 0.5 * unit, atol=1e-4)
    # the config's noise_scale is the default
    scaled = FlowDecoder(small_cfg.with_(noise_scale=0.5))
    scaled.load_state_dict(fresh.state_dict())
    assert torch.allclose(noise(scaled), half, atol=1e-5)
    with pytest.raises(ValueError, match="noise_scale"):
        fresh.generate(tokens, no_prompt, steps=1, noise_scale=0.0)
    with pytest.raises(ValueError, match="noise_scale"):
        small_cfg.with_(noise_scale=-1.0)


def test_normal_output_may_get_its_own_noise_scale(small_cfg):
    assert small_cfg.noise_scale_for("normal") == small_cfg.noise_scale_for("asmr") == 1.0
    cfg = small_cfg.with_(noise_scale=0.9, normal_noise_scale=0.6)
    assert (cfg.noise_scale_for("normal"), cfg.noise_scale_for("asmr"), cfg.noise_scale_for(None)) == (0.6, 0.9, 0.9)
    with pytest.raises(ValueError, match="normal_noise_scale"):
        small_cfg.with_(normal_noise_scale=0.0)



def test_whispered_output_may_get_its_own_guidance(small_cfg):
    assert small_cfg.cfg_strength_for("asmr") == small_cfg.cfg_strength_for("normal") == small_cfg.cfg_strength
    cfg = small_cfg.with_(asmr_cfg_strength=0.0)
    assert cfg.cfg_strength_for("asmr") == 0.0
    assert cfg.cfg_strength_for("normal") == cfg.cfg_strength_for(None) == small_cfg.cfg_strength
    with pytest.raises(ValueError, match="asmr_cfg_strength"):
        small_cfg.with_(asmr_cfg_strength=-0.5)


def test_bf16_velocity_keeps_the_fp32_state_and_stays_near_fp32(model, clip_mel):
    tokens, prompt = torch.randint(100, (24,)), clip_mel[:, :60]
    ref = model.generate(tokens, prompt, steps=4, seed=5, cfg_strength=0.7)
    fast = model.generate(tokens, prompt, steps=4, seed=5, cfg_strength=0.7, precision="bf16")
    assert fast.dtype == torch.float32
    diff = (fast - ref).abs()
    assert diff.max() > 0  # bf16 really ran
    assert diff.mean() < 0.01 * ref.std()


def test_precision_names():
    from deepasmr.precision import native_bf16, resolve

    assert resolve("fp32") == torch.float32 and resolve("bf16") == torch.bfloat16
    assert resolve("auto") == (torch.bfloat16 if native_bf16() else torch.float32)
    with pytest.raises(ValueError, match="precision must be one of"):
        resolve("half")
