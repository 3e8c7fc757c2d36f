"""Training objective: it learns on real mel, counts only generated frames, and drops conditions."""

from __future__ import annotations

import torch
from flow_helpers import Recorder, make_batch, synth_mel

from deepasmr.audio import MEL_PRESETS
from deepasmr.flow import FlowDecoder, flow_config
from deepasmr.flow.layout import aligned_crop, frame_token_ids, prefix_prompt, span_prompt


def test_loss_finite_and_decreases_on_real_mel(clip_mel, small_cfg):
    torch.manual_seed(0)
    model = FlowDecoder(small_cfg)
    batch = make_batch(clip_mel, small_cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3)
    losses = []
    for _ in range(30):
        loss = model(batch)
        assert torch.isfinite(loss)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    first, last = sum(losses[:5]) / 5, sum(losses[-5:]) / 5
    assert last < 0.85 * first, losses


def test_prompt_and_padding_frames_not_in_loss(clip_mel, small_cfg):
    torch.manual_seed(1)
    cfg = small_cfg.with_(prompt_min=0.2, prompt_max=0.3, cfg_drop_prob=0.0)
    model = FlowDecoder(cfg)
    model.net = Recorder()
    batch = make_batch(clip_mel, cfg, batch_size=2)
    batch["mel_lens"] = torch.tensor([200, 150])  # the second item is padded
    batch["token_lens"] = torch.tensor([50, 38])
    packed, _ = model.training_layout(batch)
    model.flow_loss(packed).backward()
    touched = model.net.v.grad.abs().sum(-1) > 0  # [B, L]
    assert packed.prompt.any(dim=1).all(), "every item should have a prompt with these shares"
    assert torch.equal(touched, packed.mask & ~packed.prompt)
    # the prompt reaches the network as condition, the target frames do not
    cond = model.net.inputs["cond_mel"]
    assert (cond.abs().sum(-1) > 0)[~packed.prompt].sum() == 0


def test_cfg_dropout_removes_every_condition(clip_mel, small_cfg):
    cfg = small_cfg.with_(cfg_drop_prob=1.0, use_spk_emb=True, prompt_min=0.3, prompt_max=0.3)
    model = FlowDecoder(cfg)
    model.net = Recorder()
    batch = make_batch(clip_mel, cfg, batch_size=2)
    batch["spk_emb"] = torch.randn(2, cfg.spk_emb_dim)
    model(batch)
    seen = model.net.inputs
    assert seen["cond_mel"].abs().sum() == 0
    assert (seen["ids"] == cfg.pad_token).all()
    assert seen["spk"].abs().sum() == 0


def test_separate_prompt_is_prepended(clip_mel, small_cfg):
    cfg = small_cfg.with_(separate_prompt_prob=1.0, prompt_token_drop_prob=0.0)
    model = FlowDecoder(cfg)
    batch = make_batch(clip_mel[:, :160], cfg, batch_size=2)
    prompt = clip_mel[:, 100:140]
    batch.update(prompt_mel=prompt[None].repeat(2, 1, 1), prompt_mel_lens=torch.tensor([40, 0]),
                 prompt_tokens=torch.arange(10)[None].repeat(2, 1), prompt_token_lens=torch.tensor([10, 0]))
    packed, separate = model.training_layout(batch)
    assert separate.tolist() == [True, False]
    assert packed.lengths.tolist() == [200, 160]
    assert packed.prompt[0, :40].all() and not packed.prompt[0, 40:].any()
    assert packed.target_start[0] == 40
    assert torch.allclose(packed.mel[0, :40], model.normalize(prompt.T))
    assert packed.ids[0, :40].tolist() == torch.arange(10).repeat_interleave(4).tolist()
    # item 1 had no partner: it falls back to a prefix of itself
    assert packed.target_start[1] < 160 * cfg.prompt_max + 1


def test_separate_prompt_brings_its_speaker_embedding(clip_mel, small_cfg):
    cfg = small_cfg.with_(separate_prompt_prob=1.0, use_spk_emb=True, cfg_drop_prob=0.0)
    model = FlowDecoder(cfg)
    model.net = Recorder()
    batch = make_batch(clip_mel[:, :80], cfg, batch_size=2)
    batch.update(prompt_mel=clip_mel[:, :40][None].repeat(2, 1, 1), prompt_mel_lens=torch.tensor([40, 0]),
                 spk_emb=torch.zeros(2, 256), prompt_spk_emb=torch.ones(2, 256))
    model(batch)
    spk = model.net.inputs["spk"]
    assert (spk[0] == 1).all() and (spk[1] == 0).all()  # item 1 had no partner: its own embedding


def test_layout_helpers():
    tokens = torch.tensor([5, 6, 7])
    assert frame_token_ids(tokens, 14, 4, pad=99).tolist() == [5] * 4 + [6] * 4 + [7] * 6
    assert frame_token_ids(tokens.new_zeros(0), 3, 4, pad=99).tolist() == [99] * 3
    for seed in range(20):
        g = torch.Generator().manual_seed(seed)
        p = prefix_prompt(101, 0.0, 0.3, 4, g)
        n = int(p.sum())
        assert n % 4 == 0 and n <= 30 and p[:n].all()
        s = span_prompt(100, 0.7, 1.0, g)
        masked = (~s).nonzero().flatten()
        assert 70 <= masked.numel() <= 100 and masked[-1] - masked[0] + 1 == masked.numel()
    mel, tok = aligned_crop(torch.arange(40.0)[:, None], torch.arange(10), 17, 4, torch.Generator().manual_seed(3))
    assert mel.shape[0] == 16 and mel[0, 0] % 4 == 0 and tok[0] == mel[0, 0] // 4 and tok.numel() == 4


def test_paper_preset_one_step_at_reduced_width(tmp_path):
    cfg = flow_config("paper", dim=64, depth=4, heads=4, cond_dim=32, token_dim=32, ff_mult=2.0,
                      token_conv_layers=1, conv_pos_groups=8)
    assert cfg.token_ratio == 2 and cfg.vocab_size == 6561 and cfg.mel == MEL_PRESETS["paper"]
    full = flow_config("paper")
    assert (full.depth, full.heads, full.dim) == (24, 16, 1024)
    mel = synth_mel(tmp_path, "paper")
    assert mel.shape[0] == cfg.n_mels
    torch.manual_seed(0)
    model = FlowDecoder(cfg)
    batch = make_batch(mel, cfg, batch_size=2)
    batch["spk_emb"] = torch.randn(2, cfg.spk_emb_dim)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    before = [p.detach().clone() for p in model.parameters()]
    loss = model(batch)
    loss.backward()
    opt.step()
    assert torch.isfinite(loss)
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))
    out = model.generate(batch["tokens"][0, :10], mel[:, :40], steps=2, seed=0)
    assert out.shape == (cfg.n_mels, 20)

