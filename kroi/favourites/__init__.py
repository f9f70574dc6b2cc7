"""Favourites and compare without an account: lists built from car ids in the page address."""
