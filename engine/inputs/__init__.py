"""Readers: criteria sets, evidence (YAML, CSV, Excel), survey data and their located problems."""
