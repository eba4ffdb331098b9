"""Files shipped with cilib: the sample improvement plan (``sample_plan.yml``)."""
