"""Dispatch catalogue (派单目录) and, later, dispatch suggestions (issue 14)."""
