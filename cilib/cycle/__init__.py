"""The improvement cycle: the plan model, its file, progress and trajectories, the decision rule."""
