"""Database layer: declarative base, engine/session factory and the models."""
