"""`tokenizer.init_from`: fine-tuning a trained tokenizer on a corpus whose phone vocabulary differs."""

import pytest
import torch

from deepasmr.audio import MelConfig
from deepasmr.errors import DataError
from deepasmr.tokenizer.config import TokenizerModelConfig
from deepasmr.tokenizer.dataset import mel_of_file, read_rows
from deepasmr.tokenizer.io import load_tokenizer
from deepasmr.tokenizer.model import SpeechTokenizer
from deepasmr.tokenizer.stage import warm_start
from deepasmr.tokenizer.vocab import PhoneVocab


def test_warm_start_keeps_codes_and_maps_phone_rows_by_symbol(trained_tokenizer, tiny_corpus):
    out, _ = trained_tokenizer
    start, start_vocab, meta = load_tokenizer(out / "export")
    # A new corpus's vocabulary: the old phones in reverse order, one of them gone, one never seen.
    kept = start_vocab.symbols[2:][::-1][1:]
    vocab = PhoneVocab([*kept, "new-phone"])
    model = warm_start(SpeechTokenizer(start.cfg, meta["mel"]["n_mels"], len(vocab)), str(out / "export"), vocab)
    model.eval()

    mel = mel_of_file(read_rows(tiny_corpus)[0]["path"], MelConfig(**meta["mel"]))
    tokens = start.encode(mel)[0]
    assert torch.equal(model.encode(mel)[0], tokens)  # same encoder, same normalisation: same codes
    for symbol in kept:  # each shared phone's CTC row moved with its symbol
        assert torch.equal(model.ctc_head.weight[vocab.index[symbol]],
                           start.ctc_head.weight[start_vocab.index[symbol]])
    # Read back from the codes, every shared phone scores as before against the blank (the log-softmax
    # normalisers differ: one phone fewer, one more).
    pad = torch.zeros(1, len(tokens), dtype=torch.bool)
    with torch.no_grad():
        ours = model.decode_codes(model.fsq.indices_to_codes(tokens[None]), pad)[0][0]
        theirs = start.decode_codes(start.fsq.indices_to_codes(tokens[None]), pad)[0][0]
    new_ix = torch.tensor([vocab.index[s] for s in kept])
    old_ix = torch.tensor([start_vocab.index[s] for s in kept])
    torch.testing.assert_close(ours[:, new_ix] - ours[:, :1], theirs[:, old_ix] - theirs[:, :1])


def test_warm_start_refuses_another_network(trained_tokenizer):
    out, _ = trained_tokenizer
    start, vocab, meta = load_tokenizer(out / "export")
    wider = TokenizerModelConfig(**{**start.cfg.__dict__, "d_model": start.cfg.d_model * 2})
    with pytest.raises(DataError, match="not the network"):
        warm_start(SpeechTokenizer(wider, meta["mel"]["n_mels"], len(vocab)), str(out / "export"), vocab)
