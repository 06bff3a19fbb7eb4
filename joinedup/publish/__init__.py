"""Publish: the gated marts copied atomically into the analytics file BI users open."""
