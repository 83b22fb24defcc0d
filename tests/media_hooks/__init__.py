"""Tests of media/aiortc_hooks.py with real aiortc peers on loopback."""
