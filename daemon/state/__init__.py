"""Everything locsync remembers, in one SQLite file."""
