"""Reliability and security suite: crashes, concurrency, hostile input, storage, secrets."""
