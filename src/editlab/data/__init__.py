"""Data: readers of the real formats, the offline mini world, seeded splits."""
