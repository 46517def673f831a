"""The five services; each owns its database and is the only code that touches it."""
