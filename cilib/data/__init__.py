"""Data in: the trust config, readers, mapping, loaders, validation and the prepared store."""
