"""Outgoing mail: a transactional outbox in PostgreSQL, a worker with retries, SMTP or .eml files."""
