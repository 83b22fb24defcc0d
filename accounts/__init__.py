"""Courts, organisations, users, API keys and console sessions; who the caller is and what it may see."""
