"""Inventory: the public car search and car pages."""
