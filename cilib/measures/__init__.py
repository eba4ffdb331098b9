"""The measures a plan can name: one registry entry per measure, and how each is computed."""
