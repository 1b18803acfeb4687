"""Sequential model editing (SME, docs/design.md §7): one fold = one stream of edits from the base model."""
