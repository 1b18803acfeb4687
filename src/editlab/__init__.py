"""editlab: reproducible model editing (Transformer-Patcher, rank-one editing of encoder-decoder models)."""

__version__ = "0.1.0"
