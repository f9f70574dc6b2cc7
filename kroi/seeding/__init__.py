"""Seed data loaders: the original nine cars, settings, the first admin, sample leads, demo inventory."""
