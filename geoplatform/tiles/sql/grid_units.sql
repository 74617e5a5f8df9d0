-- Every grid with its admin chain and name (so units with no incident still appear).
SELECT g.code AS grid, g.community_code AS community, c.parent_code AS street,
       s.parent_code AS district, g.name
FROM grids AS g
JOIN admin_areas AS c ON c.code = g.community_code
LEFT JOIN admin_areas AS s ON s.code = c.parent_code
