"""Base models: tokenizers and tiny architectures for the mini profile, hub loading for the paper profile."""
