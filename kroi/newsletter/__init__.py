"""Newsletter: double opt-in subscription, signed confirmation links, one-click unsubscribe."""
