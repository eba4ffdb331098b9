"""One module per notebook: each builds that report's sections from the store."""
