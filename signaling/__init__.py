"""Signaling: the socket.io room protocol — typed messages (pure), handlers (adapters), rate limits."""
