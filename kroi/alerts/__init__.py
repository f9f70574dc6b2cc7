"""Saved searches with e-mail alerts ("hakuvahti"): subscribe, double opt-in, the matching job, management."""
