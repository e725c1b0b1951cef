"""Decoding content safely into pixels."""

from hashguard.media.image import DecodeLimits, load_image

__all__ = ["DecodeLimits", "load_image"]
