"""Word-level tokenizers trained on a corpus, saved so `AutoTokenizer.from_pretrained(dir)` loads them.

The mini world's vocabulary is small and every entity is one word, so a lower-cased word-level vocabulary
keeps the tiny models' job about facts, not spelling. Special tokens follow BERT ([PAD]=0 ... ) and BART
(<s>=0, <pad>=1, </s>=2, <unk>=3) conventions so the same code handles mini and hub models.
"""

from __future__ import annotations

from collections.abc import Iterable

from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers, processors
from tokenizers.models import WordLevel
from tokenizers.trainers import WordLevelTrainer
from transformers import PreTrainedTokenizerFast

BERT_SPECIALS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
BART_SPECIALS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")


def _train(texts: Iterable[str], specials: tuple[str, ...], unk: str, min_frequency: int) -> Tokenizer:
    tok = Tokenizer(WordLevel(unk_token=unk))
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.decoder = decoders.WordPiece(prefix="##", cleanup=True)  # joins words with spaces, tidies punctuation
    trainer = WordLevelTrainer(special_tokens=list(specials), min_frequency=min_frequency)
    tok.train_from_iterator(texts, trainer=trainer)
    return tok


def train_bert_tokenizer(texts: Iterable[str], min_frequency: int = 1) -> PreTrainedTokenizerFast:
    tok = _train(texts, BERT_SPECIALS, "[UNK]", min_frequency)
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]", special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="[PAD]", unk_token="[UNK]", cls_token="[CLS]",
                                   sep_token="[SEP]", mask_token="[MASK]", model_max_length=512)


def train_bart_tokenizer(texts: Iterable[str], min_frequency: int = 1) -> PreTrainedTokenizerFast:
    tok = _train(texts, BART_SPECIALS, "<unk>", min_frequency)
    bos, eos = tok.token_to_id("<s>"), tok.token_to_id("</s>")
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", bos), ("</s>", eos)])
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>",
                                   unk_token="<unk>", mask_token="<mask>", model_max_length=512)
