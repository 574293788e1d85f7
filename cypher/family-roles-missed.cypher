// name: family-roles-missed
// description: Family roles (mother, father, child, ...) most often concerned by missed opportunities, and in how many reviews.
// params:
MATCH (m:MissedOpportunity)-[:CONCERNS]->(f:FamilyMember)
RETURN f.role AS role,
       count(DISTINCT m.id) AS missed_opportunities,
       count(DISTINCT m.review_id) AS reviews
ORDER BY missed_opportunities DESC, role;
