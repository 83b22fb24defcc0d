"""Tests of the pure media building blocks: RTP/RTCP wire formats, codecs, rewriting, keyframes, RTX."""
