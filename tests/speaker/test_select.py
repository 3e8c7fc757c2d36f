"""Prompt selection and task routing on real clips: nearest speaker, deterministic ties, the four tasks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from deepasmr.data.manifest import read_manifest
from deepasmr.errors import DataError
from deepasmr.speaker import pool as P
from deepasmr.speaker import pool_build as B
from deepasmr.speaker.select import Prompt, SelectConfig, counterpart, route_task, select_entry


@pytest.fixture(scope="module")
def queries(tiny_corpus, pools_dir) -> list[dict]:
    """Clips of pool speakers that are not in the pool (absolute paths)."""
    used = {e.source for pool in P.load_pools(pools_dir).values() for e in pool.entries}
    speakers = {e.speaker for e in P.load_pool(pools_dir / "normal").entries}
    return [{**r, "path": tiny_corpus.parent / r["path"]} for r in read_manifest(tiny_corpus)
            if r["speaker"] in speakers and r["id"] not in used]


def test_selection_finds_the_same_speaker(pools_dir, queries):
    from deepasmr.speaker.embedding import embed_file

    normal = P.load_pool(pools_dir / "normal")
    checked = 0
    for q in queries:
        if q["style"] != "normal":
            continue
        sel = select_entry(normal, embed_file(q["path"]))  # across languages: a real speaker match
        assert sel.entry.speaker == q["speaker"], (q["id"], sel.entry.id, sel.similarity)
        assert sel.note is None and 0 < sel.similarity <= 1 + 1e-6
        checked += 1
    assert checked == 3


def _pool(ids: list[str], vectors: np.ndarray, languages: list[str] | None = None) -> P.Pool:
    entries = [P.PoolEntry(id=i, style="asmr", language=(languages or ["en"] * len(ids))[n], text="t",
                           audio=f"clips/{i}.flac") for n, i in enumerate(ids)]
    return P.Pool(root=Path("/nowhere"), style="asmr", entries=entries, embeddings=vectors.astype(np.float32))


def test_ties_and_near_ties_break_by_id():
    rng = np.random.default_rng(0)
    v, other = rng.normal(size=256), rng.normal(size=256)
    tied = np.stack([v, v, other])
    for order in ([0, 1, 2], [1, 0, 2], [2, 1, 0]):
        ids = [["b", "a", "c"][i] for i in order]
        assert select_entry(_pool(ids, tied[order]), v).entry.id == "a"
    near = np.stack([v, v + 1e-3 * rng.normal(size=256)])  # cosine differs by < 1e-4
    assert select_entry(_pool(["z", "y"], near), v).entry.id == "y"
    assert select_entry(_pool(["z", "y"], near), v, config=SelectConfig(tie_epsilon=0.0)).entry.id == "z"
    with pytest.raises(Exception, match="finite non-zero 256-d"):
        select_entry(_pool(["a"], v[None]), np.zeros(256))


def test_the_counterpart_is_the_nearest_same_style_voice_in_the_other_pool():
    rng = np.random.default_rng(2)
    a, b, c = rng.normal(size=(3, 256))

    def pool(style, rows):  # rows: (id, speaker, vector)
        entries = [P.PoolEntry(id=i, style=style, language="en", text="t", audio=f"clips/{i}.flac", speaker=spk)
                   for i, spk, _ in rows]
        return P.Pool(root=Path("/nowhere"), style=style, entries=entries,
                      embeddings=np.stack([v for *_, v in rows]).astype(np.float32))

    # The normal pool's nearest voice to the query is another speaker's (c): cross-style similarity is not used.
    pools = {"asmr": pool("asmr", [("w1", "s1", a), ("w2", "s2", b)]),
             "normal": pool("normal", [("n1", "s1", c), ("n2", "s2", a + b)])}
    query = a + 0.1 * b
    assert select_entry(pools["normal"], query).entry.id == "n2"
    assert counterpart(pools, "asmr", query).id == "n1"
    assert counterpart(pools, "normal", c).id == "w1"
    assert counterpart({"asmr": pools["asmr"]}, "asmr", query) is None
    pools["normal"] = pool("normal", [("n2", "s2", a + b)])  # s1 speaks in one style only
    assert counterpart(pools, "asmr", query) is None


def test_language_aware_with_a_fallback_note():
    rng = np.random.default_rng(1)
    v = rng.normal(size=256)
    pool = _pool(["en1", "zh1"], np.stack([v, rng.normal(size=256)]), ["en", "zh"])
    assert select_entry(pool, v, language="zh").entry.id == "zh1"  # language first, then similarity
    sel = select_entry(_pool(["en1"], v[None]), v, language="zh")
    assert sel.entry.id == "en1" and "no zh entries" in sel.note


@pytest.mark.parametrize("clip_style, output_style, task, mode", [
    ("normal", "asmr", "N2A", "virtual"), ("asmr", "normal", "A2N", "virtual"),
    ("asmr", "asmr", "A2A", "self"), ("normal", "normal", "N2N", "self"),
])
def test_routing_the_four_tasks(pools_dir, queries, clip_style, output_style, task, mode):
    q = next(r for r in queries if r["style"] == clip_style and r["language"] == "en")
    route = route_task(q["path"], output_style, clip_text=q["text"], clip_style=clip_style, language="en",
                       pools=pools_dir)
    assert (route.task, route.mode, route.speaker_prompt) == (task, mode, q["path"])
    if mode == "self":  # intra-style: the clip is its own task prompt
        assert route.task_prompt.audio == q["path"] and route.task_prompt.text == q["text"]
        assert route.entry_id is None
    else:  # cross-style: a pool entry of the output style, in the target language
        entry = P.load_pool(pools_dir / output_style).get(route.entry_id)
        assert entry.style == route.task_prompt.style == output_style and entry.language == "en"
        assert route.task_prompt.text == entry.text and route.task_prompt.audio.is_file()
        assert route.similarity is not None
    json.dumps(route.to_dict())


def test_routing_detects_the_clip_style(pools_dir, queries):
    asmr = next(r for r in queries if r["style"] == "asmr" and r["language"] == "en")
    route = route_task(asmr["path"], "normal", pools=pools_dir)
    assert route.task == "A2N" and route.clip_style == "asmr" and "R_UV" in route.notes[0]


def test_fixed_and_real_pool_modes(pools_dir, queries, tmp_path):
    q = next(r for r in queries if r["style"] == "normal" and r["language"] == "en")
    fixed = Prompt(audio=Path("fixed.wav"), text="a fixed prompt", style="asmr", language="en")
    route = route_task(q["path"], "asmr", clip_style="normal", mode="fixed", fixed=fixed)
    assert route.task == "N2A" and route.task_prompt is fixed and route.mode == "fixed"
    with pytest.raises(DataError, match="needs a fixed prompt"):
        route_task(q["path"], "asmr", clip_style="normal", mode="fixed")
    with pytest.raises(DataError, match="fixed prompt is normal"):
        route_task(q["path"], "asmr", clip_style="normal", mode="fixed",
                   fixed=Prompt(audio=Path("x.wav"), text="x", style="normal"))

    real = tmp_path / "real"  # a "real" folder pool: copies of two ASMR clips
    real.mkdir()
    for r in [r for r in queries if r["style"] == "asmr"][:2]:
        shutil.copy(r["path"], real / f"{r['id']}.wav")
        (real / f"{r['id']}.txt").write_text(r["text"])
    B.build_from_folder(real, tmp_path / "real_pools", style="asmr")
    route = route_task(q["path"], "asmr", clip_style="normal", mode="real-pool", pools=tmp_path / "real_pools")
    assert route.mode == "real-pool" and route.entry_id in {p.stem for p in real.glob("*.wav")}
    assert not route.notes  # a folder pool is what real-pool mode expects
    mislabeled = route_task(q["path"], "asmr", clip_style="normal", mode="real-pool", pools=pools_dir)
    assert "built from corpus" in mislabeled.notes[0]
    with pytest.raises(DataError, match="needs a pool of normal entries"):
        route_task(q["path"], "normal", clip_style="asmr", pools=tmp_path / "real_pools")


def test_bad_arguments(pools_dir, queries):
    q = queries[0]["path"]
    with pytest.raises(DataError, match="output style"):
        route_task(q, "whisper", clip_style="normal", pools=pools_dir)
    with pytest.raises(DataError, match="selection mode"):
        route_task(q, "asmr", clip_style="normal", mode="nearest", pools=pools_dir)
    with pytest.raises(DataError, match="needs a speaker pool"):
        route_task(q, "asmr", clip_style="normal")
