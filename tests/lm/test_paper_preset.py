"""The `paper` code path at a toy size: a random Qwen2 causal LM + BPE tokenizer saved to a local folder,
as a downloaded Qwen2.5-0.5B folder would look; no hub access."""

import pytest
import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

from deepasmr.errors import ModelFilesError
from deepasmr.lm import DecodeConfig, LMRequest, SpeechLM, generate, lm_preset
from deepasmr.lm.io import load_lm, save_lm
from deepasmr.lm.text import text_tokenizer

BPE_VOCAB = 300
SPEECH_VOCAB = 64
CORPUS = ["a quiet voice whispers softly", "hello world, this is normal speech", "one two three four"]


def _write_qwen_folder(path) -> torch.Tensor:
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=BPE_VOCAB, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  special_tokens=["<|endoftext|>"])
    bpe.train_from_iterator(CORPUS, trainer)
    PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token="<|endoftext|>").save_pretrained(path)
    torch.manual_seed(0)
    config = Qwen2Config(vocab_size=BPE_VOCAB, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=True)
    causal = Qwen2ForCausalLM(config)
    causal.save_pretrained(path)
    return causal.model.embed_tokens.weight.detach().clone()


@pytest.fixture(scope="module")
def qwen_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("qwen")
    return path, _write_qwen_folder(path)


def test_paper_preset_needs_a_local_folder():
    with pytest.raises(ModelFilesError):
        SpeechLM.from_config(lm_preset("paper"))
    with pytest.raises(ModelFilesError):
        SpeechLM.from_config(lm_preset("paper", pretrained_dir="/nonexistent/qwen"))


def test_paper_preset_loads_weights_tokenizes_and_trains(qwen_dir, tmp_path):
    path, embed_weights = qwen_dir
    torch.manual_seed(0)
    model = SpeechLM.from_config(lm_preset("paper", pretrained_dir=str(path), speech_vocab_size=SPEECH_VOCAB))
    assert torch.equal(model.text_embed.weight, embed_weights)  # pretrained text embeddings, not random
    assert model.cfg.text_vocab_size == BPE_VOCAB

    tok = text_tokenizer(model.cfg)
    ids = tok.encode("A quiet voice, 3 times.", "en")  # numbers are normalised to words first
    assert ids and max(ids) < BPE_VOCAB
    assert "three" in tok.decode(ids)
    prompt = tok.encode("hello world", "en")

    n = len(ids)
    batch = {
        "text": torch.tensor([ids]), "text_lens": torch.tensor([n]),
        "prompt_text": torch.tensor([prompt]), "prompt_text_lens": torch.tensor([len(prompt)]),
        "prompt_speech": torch.tensor([[1, 2, 3]]), "prompt_speech_lens": torch.tensor([3]),
        "speech": torch.tensor([[4, 5, 6, 7]]), "speech_lens": torch.tensor([4]), "style": torch.tensor([1]),
    }
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    before = model(batch)["loss"]
    before.backward()
    opt.step()
    assert all(p.grad is not None for p in (model.text_embed.weight, model.speech_embed.weight))
    assert model(batch)["loss"] < before

    # A saved model reloads without the Qwen folder's weights and decodes identically.
    save_lm(model, tmp_path)
    again = load_lm(tmp_path)
    request = [LMRequest(text=ids, style="asmr", prompt_text=prompt, prompt_speech=[1, 2, 3])]
    greedy = DecodeConfig(greedy=True, max_new_tokens=10)
    assert generate(again, request, greedy).tokens == generate(model, request, greedy).tokens
