"""Virtual speaker roster, speaker splits, sentence pools and the corpus plan."""

from collections import Counter

from deepasmr.data import fortunes
from deepasmr.data.plan import SynthConfig, plan_corpus
from deepasmr.data.speakers import assign_splits, build_roster
from deepasmr.data.textpool import sentence_pool


def test_roster_size_ids_and_spread():
    roster = build_roster()
    by_lang = Counter(s.language for s in roster)
    assert by_lang["en"] >= 60 and by_lang["zh"] >= 15
    assert len({s.id for s in roster}) == len(roster)
    for lang in ("en", "zh"):
        sub = [s for s in roster if s.language == lang]
        assert {s.gender for s in sub} == {"male", "female"}
        assert {s.pitch_class for s in sub} == {"low", "mid", "high"}
        assert {s.rate_class for s in sub} == {"slow", "normal", "fast"}
    assert {s.base.engine for s in roster if s.language == "en"} == {"espeak", "flite", "festival"}
    assert {s.asmr_source for s in roster} == {"native", "world"}
    # Two speakers of one base voice never share a formant warp (ASMR drops pitch; warp carries identity).
    assert max(Counter((s.base.key, s.warp) for s in roster).values()) == 1


def test_splits_are_by_speaker_and_stable():
    roster = build_roster()
    splits = assign_splits(roster)
    assert splits == assign_splits(list(reversed(roster)))
    for lang in ("en", "zh"):
        counts = Counter(splits[s.id] for s in roster if s.language == lang)
        assert counts["test"] >= 2 and counts["dev"] >= 1 and counts["train"] > counts["test"]
    en_test_engines = {s.base.engine for s in roster if splits[s.id] == "test" and s.language == "en"}
    assert en_test_engines == {"espeak", "flite", "festival"}


def test_sentence_pools_are_big_clean_and_normalised():
    en, zh = sentence_pool("en"), sentence_pool("zh")
    assert len(en) >= 4000 and len(zh) >= 1500
    assert not any(ch.isdigit() for s in en[:2000] + zh[:2000] for ch in s)
    blocked = fortunes.EN_BLOCK
    assert not any({w.strip(",.'?!;:-").lower() for w in s.split()} & blocked for s in en)
    assert not any(b in s for s in zh for b in fortunes.ZH_BLOCK)


def test_plan_is_deterministic_and_pairs_styles():
    cfg = SynthConfig(hours=0.5, seed=3)
    speakers, plan, _ = plan_corpus(cfg)
    _, plan2, _ = plan_corpus(cfg)
    assert plan == plan2
    _, plan3, _ = plan_corpus(SynthConfig(hours=0.5, seed=4))
    assert plan != plan3
    for utts in plan.values():
        normal = {u.text for u in utts if u.style == "normal"}
        asmr = {u.text for u in utts if u.style == "asmr"}
        assert normal & asmr, "some sentences in both styles"
        assert normal - asmr and asmr - normal, "and some in one style only"
    total = sum(len(u) for u in plan.values())
    assert abs(total * cfg.mean_utt_seconds / 3600 - cfg.hours) < 0.2
