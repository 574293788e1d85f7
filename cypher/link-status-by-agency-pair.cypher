// name: link-status-by-agency-pair
// description: For every pair of agencies that communicated (named in alphabetical order), how many links were broken and how many effective, in how many reviews.
// params:
// One LINKED_WITH relationship per pair of agencies joined by communication links, from the
// name that sorts first to the other, holds the pair's totals (docs/schema.md, "Totals"),
// so no link is read.
MATCH (a:Agency)-[p:LINKED_WITH]->(b:Agency)
RETURN a.name AS agency_a, b.name AS agency_b,
       p.broken AS broken, p.effective AS effective, p.reviews AS reviews
ORDER BY broken DESC, effective DESC, agency_a, agency_b;
