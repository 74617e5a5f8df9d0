-- Tiles of the warnings layer key on this version: a rescan is never served stale.
INSERT INTO meta.layer_versions (layer, version) VALUES ('warnings', 1)
ON CONFLICT (layer) DO UPDATE SET version = meta.layer_versions.version + 1, updated_at = now()
