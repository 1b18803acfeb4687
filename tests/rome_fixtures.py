"""A tiny random Marian model and token-id helpers shared by the rome tests (no training, no hub)."""

import torch

from editlab.rome.batches import Seq2SeqIds, TokenSpecials

SPECIALS = TokenSpecials(pad_id=0, decoder_start_id=0)


def tiny_marian(seed: int = 0):
    from transformers import MarianConfig, MarianMTModel

    torch.manual_seed(seed)
    config = MarianConfig(vocab_size=40, d_model=16, encoder_layers=2, decoder_layers=2, encoder_attention_heads=2,
                          decoder_attention_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32, dropout=0.0,
                          pad_token_id=0, eos_token_id=1, decoder_start_token_id=0, max_position_embeddings=32)
    return MarianMTModel(config).eval()


def random_corpus(n: int, seed: int = 1) -> list[Seq2SeqIds]:
    gen = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(n):
        ls, lt = (int(x) for x in torch.randint(2, 9, (2,), generator=gen))
        src = torch.randint(3, 40, (ls,), generator=gen).tolist() + [1]
        tgt = torch.randint(3, 40, (lt,), generator=gen).tolist() + [1]
        out.append(Seq2SeqIds(src, tgt))
    return out
