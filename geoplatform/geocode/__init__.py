"""Address normalisation, the standard-address gazetteer and the matcher."""
