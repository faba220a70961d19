"""Staff identities, roles, the permission matrix, credentials and the access log."""
