import pytest

from deepasmr.train.config import ConfigError, OptimConfig, load_config, parse_overrides
from deepasmr.train.registry import get_stage, stage_names
from deepasmr.train.schedule import lr_lambda


def test_yaml_preset_and_overrides(tmp_path):
    spec = get_stage("tokenizer")
    path = tmp_path / "c.yaml"
    path.write_text("preset: paper\ntrainer:\n  max_steps: 7\nmodel:\n  fsq_levels: [3, 3, 3]\n")
    cfg = load_config(spec.config_cls, spec.presets, path, ["optim.lr=0.5", "trainer.devices=2"])
    assert cfg.trainer.max_steps == 7 and cfg.trainer.devices == 2 and cfg.optim.lr == 0.5
    assert cfg.model.fsq_levels == (3, 3, 3)
    assert cfg.model.mel_preset == "paper" and cfg.batch.max_frames == 23_000  # untouched preset fields


def test_tiny_and_paper_presets_differ():
    spec = get_stage("tokenizer")
    tiny, paper = spec.presets["tiny"](), spec.presets["paper"]()
    assert tiny.model.fsq_levels == (8, 5, 5, 5) and paper.model.fsq_levels == (3,) * 8
    assert paper.trainer.accumulate_grad_batches == 2


def test_unknown_key_and_bad_type_are_errors(tmp_path):
    spec = get_stage("toy")
    with pytest.raises(ConfigError, match="unknown key"):
        load_config(spec.config_cls, spec.presets, None, ["trainer.max_stepz=3"])
    with pytest.raises(ConfigError, match="expected int"):
        load_config(spec.config_cls, spec.presets, None, ["trainer.max_steps=abc"])
    with pytest.raises(ConfigError, match="unknown training stage"):
        get_stage("nope")
    assert {"tokenizer", "toy"} <= set(stage_names())


def test_parse_overrides_nests():
    assert parse_overrides(["a.b=3", "a.c=[1, 2]", "d=x"]) == {"a": {"b": 3, "c": [1, 2]}, "d": "x"}


def test_warmup_then_cosine_decay():
    f = lr_lambda(OptimConfig(warmup_steps=10, schedule="cosine", min_lr_ratio=0.1), max_steps=110)
    assert f(0) == pytest.approx(0.1) and f(9) == pytest.approx(1.0)
    assert f(60) == pytest.approx(0.55) and f(110) == pytest.approx(0.1)
    assert all(f(s) >= f(s + 1) for s in range(10, 110))


def test_optional_fields_accept_null():
    from dataclasses import dataclass

    from deepasmr.train.config import from_dict

    @dataclass
    class C:
        path: str | None = None
        n: int = 1

    assert from_dict(C, {"path": None}).path is None
    assert from_dict(C, {"path": "x", "n": 2}) == C("x", 2)


def test_every_registered_stage_resolves_its_presets():
    for name in stage_names():
        spec = get_stage(name)
        for preset in ("tiny", "paper"):
            if preset in spec.presets:
                cfg = load_config(spec.config_cls, spec.presets, None, [f"preset={preset}"])
                assert cfg.trainer.max_steps > 0 and cfg.optim.lr > 0
