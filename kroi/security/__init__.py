"""Security: password hashing (argon2id)."""
