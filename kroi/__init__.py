"""Kroi Auto Center: a data-driven used-car dealership."""
