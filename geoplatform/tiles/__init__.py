"""The tile and feature API: app factory, layer catalog, MVT, features, heatmaps, cache."""
