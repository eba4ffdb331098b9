"""Statistics: DataFrame in, DataFrame out; no store, no HTML, no drawing."""
