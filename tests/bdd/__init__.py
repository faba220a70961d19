"""Business-readable BDD specifications (features/*.feature) bound to the real engine."""
