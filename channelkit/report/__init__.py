"""Report pipeline: run the notebooks with papermill, render HTML, index and manifest."""
