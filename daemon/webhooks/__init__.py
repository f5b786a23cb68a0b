"""Receiving webhooks: signature checks and the Starlette app."""
