"""Command-line interface; each module adds one group of commands."""
