"""Rank-one model editing (ROME / r-ROME) for encoder-decoder models (DESIGN §8)."""
