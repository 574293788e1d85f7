// name: broken-links-by-agency-pair
// description: Broken communication links grouped by the pair of agencies (named in alphabetical order), the most frequent pair first; one row per link with its review, direction and quote: the first $limit links.
// params: limit=100
// defaults: limit=100
// 1. The pairs' broken links are counted already: LINKED_WITH (one per pair of agencies, from
//    the name that sorts first) holds them (docs/schema.md, "Totals").
MATCH (:Agency)-[p:LINKED_WITH]->(:Agency)
WHERE p.broken > 0
WITH collect(p.broken) AS counts
// 2. Keep the pairs that can reach the first $limit rows: fewer than $limit links in the
//    pairs with more links than theirs. (Pairs tied with them may come first too, so a few
//    more pairs than needed can be kept; the ORDER BY ... LIMIT below cuts exactly.)
MATCH (a:Agency)-[p:LINKED_WITH]->(b:Agency)
WHERE p.broken > 0
WITH a, b, p.broken AS pair_breakdowns,
     reduce(s = 0, n IN counts | s + CASE WHEN n > p.broken THEN n ELSE 0 END) AS before
WHERE before < $limit
// 3. Their links, in both directions, between the two agencies.
UNWIND [[a, b], [b, a]] AS way
WITH a.name AS agency_a, b.name AS agency_b, pair_breakdowns, way[0] AS s, way[1] AS t
MATCH (s)-[l:COMMUNICATION]->(t)
WHERE l.status = 'broken'
WITH agency_a, agency_b, pair_breakdowns, s, t, l
ORDER BY pair_breakdowns DESC, agency_a, agency_b, l.review_id, l.id
LIMIT $limit
MATCH (r:Review {id: l.review_id})
RETURN agency_a, agency_b, pair_breakdowns,
       s.name AS from_agency, t.name AS to_agency,
       r.id AS review_id, r.year AS year, l.id AS link_id, l.quote AS quote
ORDER BY pair_breakdowns DESC, agency_a, agency_b, review_id, link_id;
