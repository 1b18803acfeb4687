"""Tiny local checkpoints to try `editlab edit` on: `python -m editlab.tiny_models DIR`.

Writes DIR/{bert,bart,marian,t5} (Hugging Face checkpoints from configs, briefly trained on a synthetic
"where does NAME live ?" world, tokenizers that load with AutoTokenizer) and the inputs of the README example:
DIR/{classifier,seq2seq}_requests.jsonl, DIR/{classifier,seq2seq}_memory.txt (the locality set) and
DIR/{classifier,seq2seq}_held_out.txt (inputs outside the memory, to measure locality). No network.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

NAMES = ("ana", "ben", "cleo", "dan", "eva", "finn", "gus", "hana", "ivo", "jon", "kim", "lea", "max", "nia", "oto",
         "pia", "rex", "sam", "tia", "uma", "vic", "wes", "yan", "zoe")
CITIES = ("paris", "rome", "oslo", "lima", "cairo", "delhi", "quito", "tokyo")
N_REQUESTS = 4          # the first names are edited to live elsewhere
N_MEMORY = 12           # the next names' facts form the locality set; the rest are held out


def world(seed: int = 0) -> dict[str, str]:
    rng = random.Random(seed)
    return {name: rng.choice(CITIES) for name in NAMES}


def question(name: str) -> str:
    return f"where does {name} live ?"


def rephrase(name: str) -> str:
    return f"{name} lives in which city ?"


def moved(facts: dict[str, str], name: str) -> str:
    """The city after `name`'s own: the edit target (seq2seq) and the false claim (classifier)."""
    return CITIES[(CITIES.index(facts[name]) + 1) % len(CITIES)]


def claim(name: str, city: str) -> str:
    return f"{name} lives in {city}"


def _word_tokenizer(texts: Sequence[str], specials: Sequence[str], template: str, **tokens: str) -> Any:
    from tokenizers import Tokenizer, pre_tokenizers, processors
    from tokenizers.models import WordLevel
    from tokenizers.trainers import WordLevelTrainer
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(WordLevel(unk_token=tokens["unk_token"]))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.train_from_iterator(texts, trainer=WordLevelTrainer(special_tokens=list(specials)))
    pieces = template.split()
    tok.post_processor = processors.TemplateProcessing(
        single=template, special_tokens=[(p, tok.token_to_id(p)) for p in dict.fromkeys(pieces) if p != "$A"])
    return PreTrainedTokenizerFast(tokenizer_object=tok, model_max_length=128, **tokens)


def _texts() -> list[str]:
    return [question(n) for n in NAMES] + [rephrase(n) for n in NAMES] + [claim(n, c) for n in NAMES for c in CITIES]


def bert_tokenizer() -> Any:
    return _word_tokenizer(_texts(), ["[PAD]", "[UNK]", "[CLS]", "[SEP]"], "[CLS] $A [SEP]", pad_token="[PAD]",
                           unk_token="[UNK]", cls_token="[CLS]", sep_token="[SEP]")


def bart_tokenizer() -> Any:
    return _word_tokenizer(_texts(), ["<s>", "<pad>", "</s>", "<unk>"], "<s> $A </s>", bos_token="<s>",
                           pad_token="<pad>", eos_token="</s>", unk_token="<unk>")


def eos_tokenizer(texts: Sequence[str] | None = None) -> Any:
    """Marian / T5 convention: pad 0, EOS 1, no BOS; a word vocabulary of `texts` (default: this world's)."""
    return _word_tokenizer(_texts() if texts is None else texts, ["<pad>", "</s>", "<unk>"], "$A </s>", pad_token="<pad>", eos_token="</s>",
                           unk_token="<unk>")


def build(kind: str, vocab_size: int) -> Any:
    """An untrained tiny model (dropout 0, d_model 32, 2 + 2 layers)."""
    from transformers import (
        BartConfig,
        BartForConditionalGeneration,
        BertConfig,
        BertForSequenceClassification,
        MarianConfig,
        MarianMTModel,
        T5Config,
        T5ForConditionalGeneration,
    )

    if kind == "bert":
        return BertForSequenceClassification(BertConfig(
            vocab_size=vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
            max_position_embeddings=64, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, num_labels=2,
            id2label={0: "false", 1: "true"}, label2id={"false": 0, "true": 1}, pad_token_id=0))
    common = {"vocab_size": vocab_size, "d_model": 32, "encoder_layers": 2, "decoder_layers": 2,
              "encoder_attention_heads": 2, "decoder_attention_heads": 2, "encoder_ffn_dim": 64, "decoder_ffn_dim": 64,
              "max_position_embeddings": 64, "dropout": 0.0, "attention_dropout": 0.0, "activation_dropout": 0.0}
    if kind == "bart":
        # Scaled embeddings with a larger init: with BART's defaults a model this small stays at the constant
        # answer for hundreds of steps.
        return BartForConditionalGeneration(BartConfig(**common, pad_token_id=1, bos_token_id=0, eos_token_id=2,
                                                       decoder_start_token_id=2, forced_eos_token_id=2,
                                                       scale_embedding=True, init_std=0.1))
    if kind == "marian":
        return MarianMTModel(MarianConfig(**common, pad_token_id=0, eos_token_id=1, decoder_start_token_id=0,
                                          forced_eos_token_id=1, init_std=0.3))
    if kind == "t5":
        return T5ForConditionalGeneration(T5Config(
            vocab_size=vocab_size, d_model=32, d_kv=16, num_heads=2, d_ff=64, num_layers=2, num_decoder_layers=2,
            dropout_rate=0.0, feed_forward_proj="relu", pad_token_id=0, eos_token_id=1, decoder_start_token_id=0))
    raise ValueError(f"unknown tiny model kind {kind!r}")


def train(model: Any, tokenizer: Any, pairs: Sequence[tuple[str, Any]], steps: int, seed: int, lr: float = 3e-3
          ) -> list[float]:
    """AdamW on random batches of `pairs` (classifier: label ids; seq2seq: target strings)."""
    torch.manual_seed(seed)
    rng = random.Random(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    model.train()
    losses = []
    for _ in range(steps):
        batch = rng.sample(list(pairs), min(16, len(pairs)))
        enc = tokenizer([s for s, _ in batch], padding=True, return_tensors="pt")
        if isinstance(batch[0][1], int):
            labels = torch.tensor([y for _, y in batch])
        else:
            tgt = tokenizer([t for _, t in batch], padding=True, return_tensors="pt")
            labels = tgt["input_ids"].masked_fill(tgt["attention_mask"] == 0, -100)
        loss = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"], labels=labels).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    model.eval()
    return losses


def write_inputs(out: Path, facts: dict[str, str]) -> None:
    """The README example's requests, locality set and held-out inputs for both kinds of model."""
    names = list(NAMES)
    edited, memory, held_out = names[:N_REQUESTS], names[N_REQUESTS:N_REQUESTS + N_MEMORY], names[N_REQUESTS + N_MEMORY:]

    seq = [{"input": question(n), "target": moved(facts, n), "rephrases": [rephrase(n)]} for n in edited]
    cls = [{"input": claim(n, facts[n]), "target": "false", "rephrases": []} for n in edited]
    rows = {"seq2seq_requests.jsonl": seq, "classifier_requests.jsonl": cls}
    for name, reqs in rows.items():
        (out / name).write_text("".join(json.dumps(r) + "\n" for r in reqs), encoding="utf-8")
    texts = {
        "seq2seq_memory.txt": [question(n) for n in memory] + [rephrase(n) for n in memory],
        "seq2seq_held_out.txt": [question(n) for n in held_out] + [rephrase(n) for n in held_out],
        "classifier_memory.txt": [claim(n, facts[n]) for n in memory] + [claim(n, moved(facts, n)) for n in memory],
        "classifier_held_out.txt": [claim(n, facts[n]) for n in held_out] + [claim(n, moved(facts, n)) for n in held_out],
    }
    for name, lines in texts.items():
        (out / name).write_text("".join(line + "\n" for line in lines), encoding="utf-8")


# Learning rates at which each tiny model learns the world in 300 steps (BART/Marian also need their init above).
LEARNING_RATES = {"bert": 1e-3, "bart": 3e-3, "marian": 3e-3, "t5": 1e-2}


def make_tiny_models(out_dir: str | Path, seed: int = 0, steps: int = 300,
                     kinds: Sequence[str] = ("bert", "bart", "marian", "t5")) -> Path:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    facts = world(seed)
    for kind in kinds:
        tokenizer = {"bert": bert_tokenizer, "bart": bart_tokenizer}.get(kind, eos_tokenizer)()
        torch.manual_seed(seed)
        model = build(kind, len(tokenizer))
        if kind == "bert":
            # Balanced: each person's true city and one false one (the city after it, as moved() picks).
            pairs: list[tuple[str, Any]] = [(claim(n, c), int(facts[n] == c)) for n in NAMES
                                            for c in (facts[n], moved(facts, n))]
        else:
            pairs = [(question(n), facts[n]) for n in NAMES] + [(rephrase(n), facts[n]) for n in NAMES]
        train(model, tokenizer, pairs, steps, seed, LEARNING_RATES[kind])
        model.save_pretrained(out / kind)
        tokenizer.save_pretrained(out / kind)
    write_inputs(out, facts)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)   # tiny models: threads cost more than they give
    make_tiny_models(args.out_dir, args.seed, args.steps)
    print(f"wrote tiny BERT, BART, Marian and T5 checkpoints and example inputs to {args.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
