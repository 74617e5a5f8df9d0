-- Names of the admin areas (labels for /stats rows).
SELECT code, name FROM admin_areas
