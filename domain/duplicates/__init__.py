"""Duplicate requests (并单建议) and mass complaints (群诉预警)."""
