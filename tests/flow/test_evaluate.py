"""`python -m deepasmr.flow.evaluate` on real data: the tiny corpus, tokenized by the committed tokenizer, decoded
by the test bundle's (untrained) decoder through HiFi-GAN. Checks the report's shape and that its ground-truth
figures measure the corpus (real whispers are unvoiced, real normal speech is not), not the decoder's quality."""

import json

import pytest

from deepasmr.data.shards import ShardConfig, ShardReader, extract_shards
from deepasmr.flow.evaluate import main


@pytest.fixture(scope="module")
def test_shards(tiny_corpus, bundle_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("flow_eval_shards")
    extract_shards(tiny_corpus, bundle_dir, out, splits=("test",), cfg=ShardConfig(speaker_embedding=False),
                   progress=False)
    return out


def test_report_has_reconstruction_and_cross_style_per_held_out_speaker(test_shards, bundle_dir, tiny_corpus,
                                                                        tmp_path):
    out = tmp_path / "flow_eval.json"
    assert main(["--flow", str(bundle_dir), "--shards", str(test_shards), "--corpus", str(tiny_corpus.parent),
                 "--per-group", "1", "--per-speaker", "1", "--steps", "2", "--no-asr", "--json", str(out)]) == 0
    report = json.loads(out.read_text())

    test_rows = ShardReader(test_shards).index
    groups = {f"{r['style']}/{r['language']}" for r in test_rows}
    recon = report["reconstruction"]
    assert set(recon) == groups
    for figures in recon.values():
        assert figures["n"] == 1
        assert figures["mel_l1"] > 0
        assert 0.0 <= figures["r_uv_global"] <= 1.0
        assert -1.0 <= figures["sim_to_ground_truth"] <= 1.0
    for lang in {r["language"] for r in test_rows}:
        # The corpus itself: whispers are (almost) all unvoiced, normal speech mostly voiced.
        assert recon[f"asmr/{lang}"]["ground_truth_r_uv_global"] > 0.8
        assert recon[f"normal/{lang}"]["ground_truth_r_uv_global"] < 0.5

    cross = report["cross_style"]
    speakers = {r["speaker"] for r in test_rows}
    assert cross["n_speakers"] == len(speakers) == len(cross["per_speaker"])
    assert 0.0 <= cross["r_uv_global"] <= 1.0
    assert 0.0 <= cross["speaker_win_rate"] <= 1.0
    assert report["noise_scale"] == {"asmr": 1.0, "normal": 1.0}


def test_noise_sweep_reconstructs_the_chosen_styles_once_per_scale(test_shards, bundle_dir, tiny_corpus, tmp_path):
    out = tmp_path / "sweep.json"
    assert main(["--flow", str(bundle_dir), "--shards", str(test_shards), "--corpus", str(tiny_corpus.parent),
                 "--per-group", "1", "--steps", "2", "--no-asr", "--styles", "normal", "--noise-sweep", "1,0.5",
                 "--json", str(out)]) == 0
    sweep = json.loads(out.read_text())["noise_sweep"]
    assert set(sweep) == {"1.0", "0.5"}
    languages = {r["language"] for r in ShardReader(test_shards).index}
    for figures in sweep.values():
        assert set(figures) == {f"normal/{lang}" for lang in languages}
    for group, at_one in sweep["1.0"].items():
        at_half = sweep["0.5"][group]
        # the same utterances each time (same ground truth), decoded from differently scaled noise
        assert at_half["ground_truth_r_uv_global"] == at_one["ground_truth_r_uv_global"]
        assert at_half["mel_l1"] != at_one["mel_l1"]


def test_a_vocos_folder_can_stand_in_for_hifigan(test_shards, bundle_dir, tiny_corpus, tmp_path):
    """--vocos: the decoder alone heard through a trained Vocos (here an untrained tiny one), as a bundle would."""
    from dataclasses import replace

    from deepasmr.vocoder.vocos import VOCOS_PRESETS, VocosGenerator, save_vocos

    save_vocos(VocosGenerator(replace(VOCOS_PRESETS["tiny"], dim=16, intermediate_dim=32, num_layers=1)),
               tmp_path / "vocos")
    out = tmp_path / "report.json"
    assert main(["--flow", str(bundle_dir), "--shards", str(test_shards), "--corpus", str(tiny_corpus.parent),
                 "--per-group", "1", "--steps", "1", "--no-asr", "--styles", "normal", "--noise-sweep", "1",
                 "--vocos", str(tmp_path / "vocos"), "--json", str(out)]) == 0
    assert json.loads(out.read_text())["noise_sweep"]["1.0"]


def test_phone_error_rate_reads_the_real_mel_better_than_an_untrained_decoders(test_shards, bundle_dir, tiny_corpus,
                                                                              tmp_path):
    """--tokenizer: the CTC head of the tokenizer that made the shards reads phones from each mel. The real
    recordings must read far better than the test bundle's untrained decoder's noise, or the measure says nothing."""
    out = tmp_path / "per.json"
    assert main(["--flow", str(bundle_dir), "--shards", str(test_shards), "--corpus", str(tiny_corpus.parent),
                 "--per-group", "2", "--steps", "2", "--no-asr", "--styles", "normal", "--noise-sweep", "1",
                 "--tokenizer", str(bundle_dir), "--json", str(out)]) == 0
    for group, figures in json.loads(out.read_text())["noise_sweep"]["1.0"].items():
        per = figures["phone_error_rate"]
        assert set(per) == {"decoder_mel", "vocoded", "ground_truth"}, group
        assert per["ground_truth"] < 0.8 < per["decoder_mel"], (group, per)


def test_a_decoder_told_f0_gets_the_predictors_for_normal_targets(test_shards, bundle_dir, tiny_corpus, tmp_path):
    """--pitch: normal-style targets are decoded with the F0 predictor's F0 (here untrained), as synthesis does;
    a decoder trained without F0 is refused."""
    import torch

    from deepasmr.errors import DataError
    from deepasmr.flow import FlowDecoder
    from deepasmr.flow.io import load_flow, save_flow
    from deepasmr.pitch import PitchConfig, PitchPredictor, save_pitch

    save_pitch(PitchPredictor(PitchConfig(dim=16, layers=1)), tmp_path / "pitch")
    args = ["--shards", str(test_shards), "--corpus", str(tiny_corpus.parent), "--per-group", "1", "--steps", "1",
            "--no-asr", "--styles", "normal", "--noise-sweep", "1", "--pitch", str(tmp_path / "pitch")]
    with pytest.raises(DataError, match="trained with F0"):
        main(["--flow", str(bundle_dir), *args])
    torch.manual_seed(0)
    told = FlowDecoder(load_flow(bundle_dir).cfg.with_(pitch_cond=True))
    torch.nn.init.normal_(told.net.final.proj.weight, std=0.1)
    torch.nn.init.normal_(told.net.pitch_proj.weight, std=0.1)
    save_flow(told, tmp_path / "flow")
    figures = {}
    for name, extra in (("told", []), ("untold", args[-2:])):
        out = tmp_path / f"{name}.json"
        run = [a for a in args if a not in extra]
        assert main(["--flow", str(tmp_path / "flow"), *run, "--json", str(out)]) == 0
        figures[name] = json.loads(out.read_text())["noise_sweep"]["1.0"]
    assert figures["told"].keys() == figures["untold"].keys()
    for group, told_figures in figures["told"].items():  # same utterances and noise; only the F0 differs
        assert told_figures["mel_l1"] != figures["untold"][group]["mel_l1"]
