"""The synthetic sample trust and its planted effects (:mod:`cilib.sample.generate`)."""
