-- Every layer's data version: what cached tiles and ETags are keyed on (the ETL bumps them).
SELECT layer, version FROM meta.layer_versions
