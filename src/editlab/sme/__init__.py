"""Sequential model editing (SME, DESIGN §7): one fold = one stream of edits from the base model."""
