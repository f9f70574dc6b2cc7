"""Dealer settings shown on the public pages (name, address, opening hours, financing terms)."""
