// name: link-evidence
// description: The evidence behind one communication link (by its id, as listed by broken-links-by-agency-pair): the agencies, its review and the verbatim quote with its place in the document.
// params: link_id="Child X/link002"
MATCH (s:Agency)-[l:COMMUNICATION]->(t:Agency)
WHERE l.id = $link_id
MATCH (r:Review)
WHERE r.id = l.review_id
RETURN l.id AS link_id, l.status AS status, s.name AS from_agency, t.name AS to_agency,
       l.directed AS directed, l.inferred_end AS inferred_end, r.id AS review_id, r.title AS title, r.year AS year,
       r.source AS source, l.section AS section, l.start AS quote_start, l.`end` AS quote_end,
       l.quote AS quote
ORDER BY link_id;
