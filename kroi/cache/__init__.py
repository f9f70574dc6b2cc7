"""Redis fragment cache: key builders, get/set with TTL tiers and stampede guard, invalidation."""
