"""Coordinates: CRS handling (CGCS2000, Gauss-Krüger, GCJ-02, BD-09), H3 cells, grid assignment."""
