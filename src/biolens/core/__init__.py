"""Shared pieces every domain builds on: alphabets and validation, reading, batching,
config, errors, the embedding store, training, metrics and checkpoints."""
