"""Localization providers (the platforms that run jobs)."""
