"""Proteins: encoders, the embedding driver, tasks, heads and language-model tools."""
