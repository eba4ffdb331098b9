"""Running it: the half-term batch, notebook kernels and the ``cilib`` command."""
