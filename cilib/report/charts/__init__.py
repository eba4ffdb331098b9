"""Charts: drawing of computed results (control charts, funnel plots) in the project style."""
