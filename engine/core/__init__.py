"""The model of a criteria set and its results, exact numbers, errors and messages: everything else builds on these."""
