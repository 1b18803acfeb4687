"""NMT behaviour-deletion tasks for rank-one editing (DESIGN §8): toy language pair, model, metrics."""
