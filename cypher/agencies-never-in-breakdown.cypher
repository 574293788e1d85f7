// name: agencies-never-in-breakdown
// description: Agencies never at either end of a broken communication link, with the number of reviews that involve them.
// params:
MATCH (a:Agency)
OPTIONAL MATCH (a)-[l:COMMUNICATION]-(:Agency)
WHERE l.status = 'broken'
WITH a, count(l) AS breakdowns
WHERE breakdowns = 0
OPTIONAL MATCH (r:Review)-[:INVOLVES]->(a)
RETURN a.name AS agency, a.sector AS sector, count(DISTINCT r.id) AS reviews
ORDER BY reviews DESC, agency;
