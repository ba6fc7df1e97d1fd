"""Central-place accessibility for Germany."""
