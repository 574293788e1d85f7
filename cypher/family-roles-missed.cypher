// name: family-roles-missed
// description: Family roles (mother, father, child, ...) most often concerned by missed opportunities, and in how many reviews.
// params:
// Each family member holds the number of missed opportunities that concern it
// (missed_opportunities, a total counted at build; docs/schema.md). A missed opportunity
// concerns at most one member per role (one CONCERNS per role), so the sum per role is the
// number of missed opportunities, each counted once.
MATCH (f:FamilyMember)
WHERE f.missed_opportunities > 0
RETURN f.role AS role,
       sum(f.missed_opportunities) AS missed_opportunities,
       count(DISTINCT f.review_id) AS reviews
ORDER BY missed_opportunities DESC, role;
