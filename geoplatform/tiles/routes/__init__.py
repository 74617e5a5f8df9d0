"""Router factories of the tile and feature API (each takes the context dependency)."""
