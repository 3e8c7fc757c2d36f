"""Speaker pools built from the tiny real corpus: composition, determinism, files, CLI, bad files."""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from speaker_pools import PER_STYLE

from deepasmr.data.manifest import read_manifest
from deepasmr.errors import DataError, DeepASMRError, ModelFilesError
from deepasmr.speaker import pool as P
from deepasmr.speaker import pool_build as B


def run_cli(argv: list[str]) -> int:
    from deepasmr.speaker.cli import add_commands

    parser = argparse.ArgumentParser()
    add_commands(parser.add_subparsers())
    args = parser.parse_args(argv)
    return args.func(args)


def test_corpus_pool_excludes_test_speakers_and_spans_styles(tiny_corpus, pools_dir):
    rows = {r["id"]: r for r in read_manifest(tiny_corpus)}
    test_speakers = {r["speaker"] for r in rows.values() if r["split"] == "test"}
    pools = P.load_pools(pools_dir)
    assert set(pools) == {"normal", "asmr"}
    for style, pool in pools.items():
        assert len(pool.entries) == PER_STYLE
        assert all(e.style == style and rows[e.source]["style"] == style for e in pool.entries)
        assert not {e.speaker for e in pool.entries} & test_speakers
        assert {rows[e.source]["split"] for e in pool.entries} <= {"train", "dev"}
        comp = P.composition(pool)
        assert set(comp["gender"]) == {"female", "male"}
        assert set(comp["language"]) == {"en", "zh"}
        assert comp["speakers"] == 3  # every eligible speaker before any speaker's second clip
        assert pool.embeddings.shape == (PER_STYLE, 256)
        assert not pool.has_tokens
        for e in pool.entries:
            assert e.pitch != P.UNKNOWN and e.rate != P.UNKNOWN  # from speakers.json
            assert pool.audio_path(e).suffix == ".flac"


def test_rebuild_is_deterministic_and_replaces_atomically(tiny_corpus, pools_dir):
    before = (pools_dir / "normal" / P.ENTRIES).read_bytes()
    B.build_from_corpus(tiny_corpus, pools_dir, P.PoolConfig(per_style=PER_STYLE))
    assert (pools_dir / "normal" / P.ENTRIES).read_bytes() == before
    assert sorted(p.name for p in pools_dir.iterdir()) == ["asmr", "normal"]  # no temp or old folders left


def test_stratified_pick_spreads_cells_and_is_seeded():
    speakers = {f"s{i:02d}": {"language": ("en", "zh")[i % 2], "gender": ("female", "male")[(i // 2) % 2],
                              "pitch": ("low", "mid", "high")[i % 3], "rate": "normal"} for i in range(24)}
    rows = [{"id": f"s{i:02d}_{k}", "speaker": f"s{i:02d}", "style": "normal", "duration": 3.0}
            for i in range(24) for k in range(3)]
    cfg = P.PoolConfig(per_style=12, seed=3)
    a = B.stratified_pick(rows, speakers, "normal", cfg)
    assert a == B.stratified_pick(list(reversed(rows)), speakers, "normal", cfg)
    assert len({r["speaker"] for r in a}) == 12  # one clip per speaker first
    cells = {tuple(speakers[r["speaker"]].values()) for r in a}
    assert len(cells) == 12  # all 12 (language, gender, pitch) cells before a second speaker of any cell
    assert a != B.stratified_pick(rows, speakers, "normal", P.PoolConfig(per_style=12, seed=4))


def test_test_split_is_refused(tiny_corpus, tmp_path):
    with pytest.raises(DataError, match="test split"):
        B.build_from_corpus(tiny_corpus, tmp_path, P.PoolConfig(splits=("train", "test")))


def test_list_json_and_show(pools_dir, capsys):
    assert run_cli(["pool", "list", "--json", str(pools_dir)]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert len(lines) == 2 * PER_STYLE
    assert all(set(x) == {"id", "style", "language", "text"} for x in lines)
    run_cli(["pool", "list", "--json", str(pools_dir / "asmr")])  # a single pool folder works too
    assert {json.loads(x)["style"] for x in capsys.readouterr().out.splitlines()} == {"asmr"}
    run_cli(["pool", "show", str(pools_dir), lines[0]["id"]])
    shown = json.loads(capsys.readouterr().out)
    assert shown["id"] == lines[0]["id"] and Path(shown["audio_path"]).is_file()
    with pytest.raises(DataError, match="no pool entry"):
        run_cli(["pool", "show", str(pools_dir), "nope"])


def _broken(pools_dir: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "normal"
    shutil.copytree(pools_dir / "normal", dst)
    return dst


def _rewrite_first_entry(pool: Path, **changes) -> None:
    lines = (pool / P.ENTRIES).read_text().splitlines()
    lines[0] = json.dumps({**json.loads(lines[0]), **changes})
    (pool / P.ENTRIES).write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("damage, error, message", [
    (lambda p: shutil.rmtree(p), ModelFilesError, "not a speaker pool"),
    (lambda p: (p / P.EMBEDDINGS).unlink(), ModelFilesError, "embeddings.safetensors is missing"),
    (lambda p: (p / P.EMBEDDINGS).write_bytes(b"garbage"), ModelFilesError, "unreadable"),
    (lambda p: (p / P.META).write_text("{"), DataError, "not valid JSON"),
    (lambda p: (p / P.META).write_text('{"format": "other"}'), DataError, "not a deepasmr-pool"),
    (lambda p: (p / P.ENTRIES).write_text("{oops\n"), DataError, r"entries.jsonl:1: not valid JSON"),
    (lambda p: (p / P.ENTRIES).write_text(""), DataError, "no entries"),
    (lambda p: _rewrite_first_entry(p, style="asmr"), DataError, "asmr entry in the normal pool"),
    (lambda p: _rewrite_first_entry(p, language="fr"), DataError, "language 'fr'"),
    (lambda p: _rewrite_first_entry(p, text=""), DataError, "missing or empty"),
    (lambda p: _rewrite_first_entry(p, tokens=[1, -2]), DataError, "tokens"),
    (lambda p: _rewrite_first_entry(p, audio="../../etc/passwd"), DataError, "inside the pool folder"),
    (lambda p: _rewrite_first_entry(p, id="unknown-id"), DataError, "no embedding"),
    (lambda p: next((p / P.CLIPS).iterdir()).unlink(), ModelFilesError, "is missing"),
], ids=["no-folder", "no-embeddings", "bad-embeddings", "bad-meta", "wrong-format", "bad-line", "empty",
        "style-mismatch", "language", "empty-text", "tokens", "path-escape", "id-without-embedding", "no-clip"])
def test_bad_pool_files_give_clear_errors(pools_dir, tmp_path, damage, error, message):
    pool = _broken(pools_dir, tmp_path)
    damage(pool)
    with pytest.raises(error, match=message):
        P.load_pool(pool)


def test_no_pool_folder(tmp_path):
    with pytest.raises(ModelFilesError, match="no speaker pool here"):
        P.load_pools(tmp_path)


def _corpus_clip(manifest: Path, speaker_split: str, style: str) -> dict:
    return next(r for r in read_manifest(manifest) if r["split"] == speaker_split and r["style"] == style)


def test_folder_pool_detects_style(tiny_corpus, tmp_path):
    folder = tmp_path / "real"
    folder.mkdir()
    for style in ("normal", "asmr"):
        r = _corpus_clip(tiny_corpus, "test", style)
        shutil.copy(tiny_corpus.parent / r["path"], folder / f"{style}_clip.wav")
        (folder / f"{style}_clip.txt").write_text(r["text"] + "\n")
    shutil.copy(folder / "normal_clip.wav", folder / "untranscribed.wav")  # skipped: no .txt
    written = B.build_from_folder(folder, tmp_path / "pools", P.PoolConfig())
    pools = P.load_pools(tmp_path / "pools")
    assert set(written) == set(pools) == {"normal", "asmr"}
    for style, pool in pools.items():
        (entry,) = pool.entries
        assert entry.id == f"{style}_clip" and entry.language == "en" and entry.r_uv is not None
        assert pool.meta["source"]["kind"] == "folder" and pool.meta["source"]["skipped_without_transcript"] == 1
    forced = B.build_from_folder(folder, tmp_path / "forced", P.PoolConfig(), style="asmr")
    assert list(forced) == ["asmr"] and len(P.load_pool(forced["asmr"]).entries) == 2
    with pytest.raises(DataError, match="no audio clips"):
        B.build_from_folder(tmp_path / "pools" / "normal", tmp_path / "x")


def test_bootstrap_from_normal_with_a_synthesize_hook(tiny_corpus, pools_dir, tmp_path):
    from deepasmr.audio import load_audio

    work = tmp_path / "pools"
    shutil.copytree(pools_dir / "normal", work / "normal")
    entries = work / "normal" / P.ENTRIES  # two entries are enough, and PYIN per clip is the slow part
    entries.write_text("".join(entries.read_text().splitlines(keepends=True)[:2]))
    whisper = tiny_corpus.parent / min((r for r in read_manifest(tiny_corpus) if r["style"] == "asmr"
                                        and r["split"] == "train"), key=lambda r: r["duration"])["path"]
    calls = []

    def synthesize(text, voice_wav, style):  # stands in for the N2A pipeline: a real whispered clip
        calls.append((text, Path(voice_wav), style))
        return load_audio(whisper, trim=False)

    B.build_from_normal(work, synthesize, P.PoolConfig())
    asmr, normal = P.load_pool(work / "asmr"), P.load_pool(work / "normal")
    assert [e.source for e in asmr.entries] == [e.id for e in normal.entries]
    assert all(e.id.endswith("-n2a") and e.r_uv > 0.6 for e in asmr.entries)
    assert calls[0] == (normal.entries[0].text, normal.audio_path(normal.entries[0]), "asmr")

    def normal_voice(text, voice_wav, style):  # a failed N2A (still voiced) is dropped
        return load_audio(voice_wav, trim=False)

    with pytest.raises(DataError, match="no ASMR-style clip"):
        B.build_from_normal(work, normal_voice, P.PoolConfig())


def test_from_normal_cli_names_the_missing_stages(pools_dir):
    # The tiny corpus pools sit in a folder without lm/flow weights: bootstrapping must say what is missing.
    with pytest.raises(DeepASMRError, match="lm: missing lm.json"):
        run_cli(["pool", "build", "--out", str(pools_dir), "--bundle", str(pools_dir.parent), "--from-normal"])


def test_tokens_filled_with_a_tokenizer(pools_dir, tmp_path):
    import torch

    from deepasmr.tokenizer.config import TokenizerModelConfig
    from deepasmr.tokenizer.io import save_tokenizer
    from deepasmr.tokenizer.model import SpeechTokenizer
    from deepasmr.tokenizer.vocab import PhoneVocab

    torch.manual_seed(0)
    cfg = TokenizerModelConfig(d_model=32, n_heads=2, pre_layers=1, post_layers=1)
    save_tokenizer(SpeechTokenizer(cfg, 80, 5), PhoneVocab(["a", "b", "c"]), tmp_path / "tok")
    pool_dir = _broken(pools_dir, tmp_path)
    P.fill_tokens(pool_dir, tmp_path / "tok")
    pool = P.load_pool(pool_dir)
    assert pool.has_tokens and pool.tokens_from(tmp_path / "tok")
    assert not P.load_pool(pools_dir / "normal").tokens_from(tmp_path / "tok")
    for e in pool.entries:  # 4x subsampled 86 Hz mel -> ~21.5 tokens/s
        assert abs(len(e.tokens) - e.duration * 22050 / 256 / 4) <= 2
    assert np.allclose(pool.embeddings, P.load_pool(pools_dir / "normal").embeddings)
