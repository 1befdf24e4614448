"""One module per measurement; each works the same way for every system."""
