"""Tokenizers behind one small interface: a word-level one for the toy pair, an adapter for hub models."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

from editlab.errors import DataFormatError
from editlab.io import read_json, write_json
from editlab.rome.batches import Seq2SeqIds, TokenSpecials

PAD, EOS, UNK = "<pad>", "</s>", "<unk>"
TOKENIZER_FILE = "word_vocab.json"


class NMTTokenizer(Protocol):
    specials: TokenSpecials
    eos_id: int

    def encode_source(self, text: str) -> list[int]: ...
    def encode_target(self, text: str) -> list[int]: ...
    def decode(self, ids: Iterable[int]) -> str: ...
    def source_prefix_length(self, text: str, char_end: int) -> int: ...


def pair_ids(tok: NMTTokenizer, source: str, target: str) -> Seq2SeqIds:
    return Seq2SeqIds(source=tok.encode_source(source), target=tok.encode_target(target))


class WordTokenizer:
    """Whitespace tokens, shared source/target vocabulary (as Marian shares its embeddings)."""

    def __init__(self, words: list[str]) -> None:
        self.itos = [PAD, EOS, UNK] + [w for w in words if w not in (PAD, EOS, UNK)]
        self.stoi = {w: i for i, w in enumerate(self.itos)}
        if len(self.stoi) != len(self.itos):
            raise ValueError("duplicate words in vocabulary")
        # Marian starts decoding from the pad token.
        self.specials = TokenSpecials(pad_id=0, decoder_start_id=0)
        self.eos_id = 1

    @classmethod
    def build(cls, texts: Iterable[str]) -> WordTokenizer:
        return cls(sorted({w for t in texts for w in t.split()}))

    def __len__(self) -> int:
        return len(self.itos)

    def _ids(self, text: str) -> list[int]:
        return [self.stoi.get(w, 2) for w in text.split()] + [self.eos_id]

    encode_source = _ids
    encode_target = _ids

    def decode(self, ids: Iterable[int]) -> str:
        return " ".join(self.itos[i] for i in ids if i > 2)

    def source_prefix_length(self, text: str, char_end: int) -> int:
        return len(text[:char_end].split())

    def hf_tokenizer(self) -> Any:
        """The same tokenizer as a Hugging Face fast tokenizer (whitespace words, EOS appended, unknown -> <unk>),
        so the model directory also loads with `AutoTokenizer.from_pretrained` (encodings equal `_ids`)."""
        from tokenizers import Tokenizer, pre_tokenizers, processors
        from tokenizers.models import WordLevel
        from transformers import PreTrainedTokenizerFast

        tok = Tokenizer(WordLevel(vocab=dict(self.stoi), unk_token=UNK))
        tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
        tok.post_processor = processors.TemplateProcessing(single=f"$A {EOS}", special_tokens=[(EOS, self.eos_id)])
        return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token=PAD, eos_token=EOS, unk_token=UNK,
                                       model_max_length=512)

    def save(self, directory: str | os.PathLike[str]) -> None:
        """word_vocab.json (what editlab loads) plus the Hugging Face tokenizer files (AutoTokenizer)."""
        write_json(Path(directory) / TOKENIZER_FILE, {"kind": "word", "vocab": self.itos[3:]})
        self.hf_tokenizer().save_pretrained(str(directory))

    @classmethod
    def load(cls, directory: str | os.PathLike[str]) -> WordTokenizer:
        path = Path(directory) / TOKENIZER_FILE
        if not path.exists():
            raise DataFormatError(path, "tokenizer vocabulary not found")
        data: Any = read_json(path)   # not UTF-8 / invalid JSON: one line naming file and line
        if not isinstance(data, dict) or not isinstance(data.get("vocab"), list):
            raise DataFormatError(path, "expected an object with a 'vocab' list")
        return cls(data["vocab"])


class HubTokenizer:
    """Adapter for a Hugging Face Marian/BART/T5 tokenizer (paper profile)."""

    def __init__(self, hf_tokenizer: Any, decoder_start_id: int) -> None:
        self.hf = hf_tokenizer
        self.specials = TokenSpecials(pad_id=int(hf_tokenizer.pad_token_id), decoder_start_id=int(decoder_start_id))
        self.eos_id = int(hf_tokenizer.eos_token_id)

    def encode_source(self, text: str) -> list[int]:
        return list(self.hf(text)["input_ids"])

    def encode_target(self, text: str) -> list[int]:
        return list(self.hf(text_target=text)["input_ids"])

    def decode(self, ids: Iterable[int]) -> str:
        return str(self.hf.decode(list(ids), skip_special_tokens=True))

    def source_prefix_length(self, text: str, char_end: int) -> int:
        # Tokens of the prefix up to the trigger's end, without the EOS the tokenizer appends.
        return len(self.hf(text[:char_end])["input_ids"]) - 1
