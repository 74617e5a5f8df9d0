"""The ETL: extract, normalise, geocode, assign, load, aggregate, publish."""
