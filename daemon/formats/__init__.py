"""File formats, registered by name (see ``base.Format`` for the contract)."""
