"""Session recordings: stream-copied WebM segments, manifests, verification and repair (issue 4)."""
