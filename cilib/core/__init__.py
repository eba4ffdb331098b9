"""The first layer: the data contract, errors, safe paths and YAML, calendar and groups."""
