"""The JSON API under /api: cars and leads, authenticated by per-user API tokens, described at /schema."""
