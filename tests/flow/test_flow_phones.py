"""A decoder told the phone each token speaks (FlowConfig.phone_vocab): zero start, layout, and that it learns
from the phones what the tokens do not say."""

from __future__ import annotations

import pytest
import torch
import yaml
from flow_helpers import Recorder, make_batch
from torch import nn

from deepasmr.flow import FlowDecoder

PHONES = ("a", "i", "s", "m")


def _nonzero(model: FlowDecoder) -> FlowDecoder:
    # Zero-initialised output layers would make every velocity 0 and the comparisons vacuous.
    for name, p in model.named_parameters():
        if p.abs().sum() == 0 and "phones" not in name:
            nn.init.normal_(p, std=0.02)
    return model


def test_an_added_phone_table_changes_nothing_until_it_learns(small_cfg, clip_mel):
    torch.manual_seed(0)
    plain = _nonzero(FlowDecoder(small_cfg))
    told = FlowDecoder(small_cfg.with_(phone_vocab=PHONES))
    missing, unexpected = told.load_state_dict(plain.state_dict(), strict=False)
    assert missing == ["net.tokens.phones.weight"] and not unexpected
    tokens, prompt = torch.randint(100, (15,)), clip_mel[:, :40]
    phones = torch.randint(len(PHONES), (15,))
    kw = dict(steps=2, seed=0, cfg_strength=0.7)
    reference = plain.generate(tokens, prompt, **kw)
    assert torch.allclose(told.generate(tokens, prompt, phones=phones, **kw), reference, atol=1e-6)
    assert torch.allclose(told.generate(tokens, prompt, **kw), reference, atol=1e-6)

    with torch.no_grad():
        told.net.tokens.phones.weight[: len(PHONES)].normal_(std=1.0)
    assert not torch.allclose(told.generate(tokens, prompt, phones=phones, **kw), reference, atol=1e-3)
    unknown = torch.full_like(phones, told.cfg.null_phone)  # the "unknown" row stays zero
    assert torch.allclose(told.generate(tokens, prompt, phones=unknown, **kw), reference, atol=1e-6)


def test_phone_guidance_extrapolates_from_the_unphoned_decoder(small_cfg, clip_mel):
    torch.manual_seed(0)
    told = _nonzero(FlowDecoder(small_cfg.with_(phone_vocab=PHONES)))
    with torch.no_grad():
        told.net.tokens.phones.weight[: len(PHONES)].normal_(std=1.0)
    tokens, prompt = torch.randint(100, (15,)), clip_mel[:, :40]
    phones, unknown = torch.randint(len(PHONES), (15,)), torch.full((15,), told.cfg.null_phone)
    # One unguided Euler step from the same noise: out = x0 + v, and denormalising is affine, so the phone term
    # w (v_told - v_unphoned) shows as out_told + w (out_told - out_unknown).
    one = dict(steps=1, seed=0, cfg_strength=0.0)
    plain, unphoned = told.generate(tokens, prompt, phones=phones, **one), told.generate(tokens, prompt,
                                                                                        phones=unknown, **one)
    pulled = told.generate(tokens, prompt, phones=phones, phone_cfg_strength=2.0, **one)
    assert torch.allclose(pulled, plain + 2.0 * (plain - unphoned), atol=1e-4)
    assert not torch.allclose(pulled, plain, atol=1e-3)

    kw = dict(steps=3, seed=1, cfg_strength=0.7)
    default = told.generate(tokens, prompt, phones=phones, **kw)
    assert torch.equal(told.generate(tokens, prompt, phones=phones, phone_cfg_strength=0.0, **kw), default)
    assert told.cfg.phone_cfg_strength == 0.0  # off unless a model's config turns it on
    guided = told.generate(tokens, prompt, phones=phones, phone_cfg_strength=2.0, **kw)
    assert torch.allclose(told.generate(tokens, prompt, phones=phones, phone_cfg_strength=2.0, batched_cfg=False,
                                        **kw), guided, atol=1e-5)
    # without phones there is nothing to pull towards: the same as no phone guidance
    assert torch.equal(told.generate(tokens, prompt, phone_cfg_strength=2.0, **kw), told.generate(tokens, prompt,
                                                                                                 **kw))
    with pytest.raises(ValueError, match="phone_cfg_strength"):
        small_cfg.with_(phone_cfg_strength=-1.0)


def test_phones_are_refused_where_they_cannot_apply(small_cfg, clip_mel):
    tokens = torch.randint(100, (6,))
    with pytest.raises(ValueError, match="without phones"):
        FlowDecoder(small_cfg).generate(tokens, clip_mel[:, :8], steps=1, phones=torch.zeros(6, dtype=torch.long))
    with pytest.raises(ValueError, match="must match tokens"):
        FlowDecoder(small_cfg.with_(phone_vocab=PHONES)).generate(tokens, clip_mel[:, :8], steps=1,
                                                                  phones=torch.zeros(5, dtype=torch.long))


def test_training_shows_phones_on_target_frames_only(small_cfg, clip_mel):
    torch.manual_seed(2)
    cfg = small_cfg.with_(phone_vocab=PHONES, phone_drop_prob=0.0, cfg_drop_prob=0.0, prompt_min=0.2,
                          prompt_max=0.3, prompt_token_drop_prob=0.0)
    model = FlowDecoder(cfg)
    model.net = Recorder()
    batch = make_batch(clip_mel, cfg, batch_size=2)
    n_tok = batch["tokens"].shape[1]
    batch["phones"] = (torch.arange(n_tok) % len(PHONES))[None].repeat(2, 1)
    packed, _ = model.training_layout(batch)
    model.flow_loss(packed)
    seen = model.net.inputs["phone_ids"]
    assert torch.all(seen[packed.prompt] == cfg.null_phone)
    target = packed.mask & ~packed.prompt
    assert torch.all(seen[target] < len(PHONES))
    # each target frame carries its token's phone: frame f of token k has phone k mod 4
    r = cfg.token_ratio
    first = int(packed.target_start[0])
    expect = (torch.arange(first, first + 8) // r) % len(PHONES)
    assert torch.equal(seen[0, first : first + 8], expect)

    model.cfg = cfg.with_(cfg_drop_prob=1.0)  # the null branch of guidance knows no phones
    model.flow_loss(model.training_layout(batch)[0])
    assert torch.all(model.net.inputs["phone_ids"] == cfg.null_phone)
    model.cfg = cfg.with_(phone_drop_prob=1.0)
    model.flow_loss(model.training_layout(batch)[0])
    assert torch.all(model.net.inputs["phone_ids"] == cfg.null_phone)


def _phone_mel(phones: torch.Tensor, ratio: int, n_mels: int) -> torch.Tensor:
    """A log-mel whose spectrum is set by the phone alone: phone p lights band p of four."""
    frames = phones.repeat_interleave(ratio)
    mel = torch.full((n_mels, len(frames)), -9.0)
    band = n_mels // len(PHONES)
    for f, p in enumerate(frames.tolist()):
        mel[p * band : (p + 1) * band, f] = -2.0
    return mel


def test_the_phones_teach_what_the_tokens_do_not_say(small_cfg):
    """Tokens that carry no phone (one code throughout): only a decoder told the phones can learn the spectrum."""
    cfg = small_cfg.with_(prompt_max=0.2, cfg_drop_prob=0.0, phone_drop_prob=0.0)
    gen = torch.Generator().manual_seed(0)
    phones = torch.randint(len(PHONES), (2, 40), generator=gen)
    mel = torch.stack([_phone_mel(p, cfg.token_ratio, cfg.n_mels) for p in phones])
    tokens = torch.full((2, 40), 7)
    batch = {"mel": mel, "mel_lens": torch.full((2,), mel.shape[-1]), "tokens": tokens,
             "token_lens": torch.full((2,), 40), "phones": phones}

    def error(phone_vocab) -> float:
        torch.manual_seed(0)
        model = FlowDecoder(cfg.with_(phone_vocab=phone_vocab))
        opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
        for _ in range(100):
            loss = model(batch)
            opt.zero_grad()
            loss.backward()
            opt.step()
        # The flow loss is dominated by the unpredictable noise; what the decoder learned shows in its output.
        out = model.generate(tokens[0], mel[0, :, :0], steps=8, seed=0, phones=phones[0] if phone_vocab else None)
        return float((out - mel[0]).abs().mean())

    told, blind = error(PHONES), error(())
    assert told < 0.8 * blind, (told, blind)


def test_train_entry_adds_phones_to_a_decoder_without_them(tiny_corpus, bundle_dir, tmp_path):
    """Real shards (the tiny corpus, tokenised by the bundle's tokenizer), the tokenizer aligning: the exported
    decoder names the shards' phones, and a zero-lr run keeps the start's weights and a zero phone table."""
    from deepasmr.data.shards import ShardConfig, extract_shards
    from deepasmr.flow.io import load_flow
    from deepasmr.flow.stage import SPEC, FlowStageConfig
    from deepasmr.lm.data import read_shard_meta
    from deepasmr.train.config import load_config
    from deepasmr.train.registry import register_stage
    from deepasmr.train.runner import train

    register_stage(SPEC)
    shards = tmp_path / "shards"
    extract_shards(tiny_corpus, bundle_dir, shards, splits=("train", "dev"), cfg=ShardConfig(speaker_embedding=False))
    start = load_flow(bundle_dir)
    assert not start.cfg.phone_vocab
    config = tmp_path / "flow.yaml"
    config.write_text(yaml.safe_dump({"preset": "tiny", "model": start.cfg.to_dict(), "init_from": str(bundle_dir)}))
    overrides = [f"data.shard_dir={shards}", f"data.alignment_tokenizer={bundle_dir}",
                 f"trainer.out_dir={tmp_path / 'run'}", "trainer.max_steps=2", "trainer.progress_bar=false",
                 "trainer.num_threads=1", "trainer.accelerator=cpu", "batch.max_frames=2000", "optim.lr=0"]
    summary = train("flow", load_config(FlowStageConfig, SPEC.presets, config, overrides))
    assert summary["global_step"] == 2
    tuned = load_flow(tmp_path / "run" / "export")
    assert list(tuned.cfg.phone_vocab) == read_shard_meta(shards)["tokenizer"]["vocab"]
    weights = tuned.state_dict()
    assert torch.all(weights.pop("net.tokens.phones.weight") == 0)
    for name, value in start.state_dict().items():
        assert torch.equal(value.float(), weights[name].float()), name
