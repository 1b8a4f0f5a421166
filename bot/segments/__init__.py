"""Segments: their figures, names, invite links, and the admin commands for them."""
