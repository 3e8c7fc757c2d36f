"""Best-of-N token sampling (deepasmr.lm.rerank): the shipped tokenizer's CTC phone head scores candidates
against the text, read from the tiny corpus's real speech; a small LM draws the candidates."""

import json
import math
from pathlib import Path

import pytest
import torch

from deepasmr.lm import DecodeConfig, LMRequest, generate
from deepasmr.lm.rerank import best_of, phone_scores
from deepasmr.lm.sampling import CANDIDATE_SEED_STRIDE, piece_seed

TINY = Path(__file__).resolve().parents[2] / "models" / "tiny"
SAMPLING = DecodeConfig(temperature=1.0, max_new_tokens=30)


@pytest.fixture(scope="module")
def reader():
    from deepasmr.eval.phones import PhoneReader

    return PhoneReader(TINY)


def _clip_tokens(reader, tiny_corpus, row) -> list[int]:
    from deepasmr.audio import load_audio, log_mel

    wav, _ = load_audio(tiny_corpus.parent / row["path"], reader.mel_cfg.sample_rate, trim=False)
    with torch.inference_mode():
        return reader.model.encode(log_mel(wav, reader.mel_cfg))[0].tolist()


def test_a_clip_s_tokens_read_their_own_text_best(reader, tiny_corpus):
    rows = [json.loads(line) for line in tiny_corpus.read_text().splitlines()]
    wins = 0
    for i, row in enumerate(rows):
        other = next(r for r in rows[i + 1 :] + rows[:i] if r["language"] == row["language"]
                     and r["text"] != row["text"])
        tokens = _clip_tokens(reader, tiny_corpus, row)
        own, wrong = (phone_scores(reader.model, [tokens], reader.reference(r["text"], r["language"]))[0]
                      for r in (row, other))
        wins += own < wrong
    assert wins == len(rows)


def test_a_candidate_too_short_for_the_text_never_wins_and_no_text_ties_all(reader):
    reference = reader.reference("The quiet garden was full of yellow flowers.", "en")
    scores = phone_scores(reader.model, [[5, 6], [], list(range(60))], reference)
    assert scores[0] == scores[1] == math.inf and math.isfinite(scores[2])
    assert phone_scores(reader.model, [[5, 6], [7]], []) == [0.0, 0.0]


@pytest.fixture
def lm(make_model):
    return make_model(seed=4, speech_vocab_size=1000, max_tokens_per_text=4.0)


def test_best_of_keeps_the_best_read_draw_and_its_first_draw_is_plain_sampling(lm, reader):
    requests = [LMRequest(text=[3, 4, 5, 6, 7, 8, 9], style="asmr", prompt_text=[9, 10], prompt_speech=[1, 2, 3]),
                LMRequest(text=[11, 12, 13, 14, 15], style="normal")]
    references = [reader.reference("a quiet garden", "en"), reader.reference("yellow flowers", "en")]
    out, choices = best_of(lm, reader.model, requests, references, SAMPLING, candidates=3, seed=5)
    # Distinct finite scores, and a winner other than the first draw: the choice below is a real one.
    assert all(math.isfinite(x) for c in choices for x in c.scores) and any(c.index != 0 for c in choices)
    for j, request in enumerate(requests):
        # Candidate c of request j is what plain sampling gives with seed piece_seed(5, j) + c * CANDIDATE_SEED_STRIDE.
        draws = [generate(lm, [request], SAMPLING, seed=piece_seed(5, j) + c * CANDIDATE_SEED_STRIDE).tokens[0]
                 for c in range(3)]
        scores = phone_scores(reader.model, draws, references[j])
        assert choices[j].scores == pytest.approx(scores)
        assert out.tokens[j] == draws[choices[j].index]
        assert scores[choices[j].index] == min(scores)
    assert len({tuple(t) for t in (generate(lm, [requests[0]], SAMPLING, seed=5 + c * CANDIDATE_SEED_STRIDE)
                                   .tokens[0] for c in range(3))}) > 1
    plain = generate(lm, requests, SAMPLING, seed=5)
    one, _ = best_of(lm, reader.model, requests, references, SAMPLING, candidates=1, seed=5)
    assert one.tokens == plain.tokens
    with pytest.raises(ValueError, match="candidates"):
        best_of(lm, reader.model, requests, references, SAMPLING, candidates=0, seed=5)


def test_neighbouring_seeds_share_no_candidates(lm, reader):
    """Runs at seeds 5 and 6 draw different candidates throughout (their scores, distinct floats, do not meet),
    so several seeds of an evaluation are independent draws."""
    request = [LMRequest(text=[3, 4, 5, 6, 7, 8, 9], style="asmr", prompt_text=[9, 10], prompt_speech=[1, 2, 3])]
    reference = [reader.reference("a quiet garden", "en")]
    scores = [set(best_of(lm, reader.model, request, reference, SAMPLING, candidates=4, seed=s)[1][0].scores)
              for s in (5, 6)]
    assert len(scores[0]) == len(scores[1]) == 4
    assert not scores[0] & scores[1]
