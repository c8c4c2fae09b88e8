"""Catalog embeddings, co-occurrence learned from shopper events, and the ranker."""
