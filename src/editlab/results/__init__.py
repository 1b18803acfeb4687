"""Results stage: read the per-fold SME outputs, aggregate across folds, write tables (DESIGN §7, §11)."""
