// name: family-roles-missed
// description: Family roles (mother, father, child, ...) most often concerned by missed opportunities, and in how many reviews.
// params:
// A missed opportunity about two children counts once for 'child': DISTINCT on the node,
// and the review is read from the relationship (both ends belong to the same review).
MATCH (m:MissedOpportunity)-[x:CONCERNS]->(f:FamilyMember)
RETURN f.role AS role,
       count(DISTINCT m) AS missed_opportunities,
       count(DISTINCT x.review_id) AS reviews
ORDER BY missed_opportunities DESC, role;
