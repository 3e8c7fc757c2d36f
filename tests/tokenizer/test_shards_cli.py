import json

import torch

from deepasmr.audio import MelConfig, load_audio, log_mel
from deepasmr.cli import main
from deepasmr.data.shards import ShardConfig, ShardReader, extract_shards
from deepasmr.tokenizer.analysis import analyze, edit_distance, format_report
from deepasmr.tokenizer.dataset import read_rows
from deepasmr.tokenizer.io import load_tokenizer


def test_shards_round_trip(trained_tokenizer, tiny_corpus, tmp_path):
    out, _ = trained_tokenizer
    model, vocab, meta = load_tokenizer(out / "export")
    index = extract_shards(tiny_corpus, out / "export", tmp_path / "shards", cfg=ShardConfig(utterances_per_shard=7),
                           progress=False)
    reader = ShardReader(index.parent)
    rows = {r["id"]: r for r in read_rows(tiny_corpus)}
    assert len(reader) == len(rows) and len({r["shard"] for r in reader}) > 1
    row = next(iter(reader))
    item = reader[row["id"]]
    wav, _ = load_audio(rows[row["id"]]["path"], 22_050, trim=False)
    mel = log_mel(wav, MelConfig(**meta["mel"]))
    assert item["mel"].dtype == torch.float16 and item["mel"].shape == (80, row["n_frames"])
    assert torch.allclose(item["mel"].float(), mel, atol=1e-2)
    assert torch.equal(item["tokens"].long(), model.encode(mel)[0]) and row["n_tokens"] == len(item["tokens"])
    shard_vocab = reader.meta["phone_vocab"]
    assert shard_vocab[: len(vocab)] == vocab.symbols  # the tokenizer's ids kept, unseen phones appended
    for r in reader:  # every phone survives, held-out speakers' rare phones included
        assert [shard_vocab[i] for i in reader[r["id"]]["phones"].tolist()] == rows[r["id"]]["phonemes"].split()
    assert item["spk"].shape == (256,)
    if row["spk_ok"]:
        assert abs(float(item["spk"].norm()) - 1) < 1e-3
    assert {"id", "speaker", "style", "language", "text", "split", "n_frames", "n_tokens", "shard"} <= set(row)
    assert reader.meta["frames_per_token"] == 4


def test_tokenize_cli_writes_tokens(trained_tokenizer, tiny_corpus, tmp_path):
    out, _ = trained_tokenizer
    wav = read_rows(tiny_corpus)[0]["path"]
    dest = tmp_path / "t.jsonl"
    assert main(["tokenize", wav, "--model", str(out / "export"), "--out", str(dest), "--phones"]) == 0
    item = json.loads(dest.read_text())
    assert item["path"] == wav and len(item["tokens"]) > 0 and "phones" in item


def test_analysis_reports_probes_and_figure(trained_tokenizer, tiny_corpus, tmp_path):
    out, _ = trained_tokenizer
    report = analyze(out / "export", tiny_corpus, tmp_path / "an")
    for name in ("mel", "hidden", "tokens", "bag_of_codes"):
        assert 0 <= report["probes"][name]["style_acc"] <= 1 and 0 <= report["probes"][name]["speaker_acc"] <= 1
    assert 0 < report["codebook_heldout"]["usage"] <= 1 and "all" in report["phone_error_rate"]
    assert (tmp_path / "an" / "tsne_style_speaker.png").stat().st_size > 0
    assert "chance" in format_report(report)


def test_edit_distance():
    assert edit_distance(list("kitten"), list("sitting")) == 3 and edit_distance([], [1, 2]) == 2
