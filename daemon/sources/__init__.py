"""Where source content comes from (files now; CMS feeds later)."""
