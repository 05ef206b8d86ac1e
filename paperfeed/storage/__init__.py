"""Storage: the only code that writes SQL. One module per table group; tables in tables.py."""
