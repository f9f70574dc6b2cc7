"""Accounts: staff users, sign-in, sessions, roles."""
