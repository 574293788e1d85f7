// name: recount-totals
// description: Count every total again over the whole Neo4j database (docs/schema.md, "Totals"). 'sgraph load' runs it after every load, because a load replaces reviews in a database that may hold others; graph_model/totals.py makes the same totals at build, and tests keep the two in agreement.
// params:
// Neo4j only (COUNT and COLLECT subqueries): the embedded store is written whole from the
// built graph, totals included, so it never needs this. Not in the analysts' library: it
// writes. Every statement is safe to run again; the large ones write only what differs.

// Agencies: broken links at either end, as the sender, their reviews; missed opportunities.
MATCH (a:Agency)
WITH a,
     COUNT { (a)-[:COMMUNICATION {status: 'broken'}]-(:Agency) } AS broken_links,
     COUNT { (a)-[:COMMUNICATION {status: 'broken'}]->(:Agency) } AS broken_sent,
     size(COLLECT { MATCH (a)-[l:COMMUNICATION {status: 'broken'}]-(:Agency) RETURN DISTINCT l.review_id }) AS broken_reviews,
     COUNT { (:MissedOpportunity)-[:MISSED_BY]->(a) } AS missed_opportunities,
     size(COLLECT { MATCH (:MissedOpportunity)-[x:MISSED_BY]->(a) RETURN DISTINCT x.review_id }) AS missed_reviews
SET a.broken_links = broken_links, a.broken_sent = broken_sent, a.broken_reviews = broken_reviews,
    a.missed_opportunities = missed_opportunities, a.missed_reviews = missed_reviews;

// Agency pairs: one LINKED_WITH per pair joined by COMMUNICATION, from the name that sorts first.
MATCH (s:Agency)-[l:COMMUNICATION]->(t:Agency)
WITH CASE WHEN s.name <= t.name THEN s ELSE t END AS a,
     CASE WHEN s.name <= t.name THEN t ELSE s END AS b,
     count(CASE WHEN l.status = 'broken' THEN 1 END) AS broken,
     count(CASE WHEN l.status = 'effective' THEN 1 END) AS effective,
     count(DISTINCT l.review_id) AS reviews
MERGE (a)-[p:LINKED_WITH]->(b)
SET p.id = a.name + '/LINKED_WITH/' + b.name, p.broken = broken, p.effective = effective, p.reviews = reviews;

MATCH (a:Agency)-[p:LINKED_WITH]->(b:Agency)
WHERE a.name > b.name OR NOT EXISTS { (a)-[:COMMUNICATION]-(b) }
DELETE p;

// Themes: the reviews that raise them, and the first and last of their years (null removes
// the property when none has a year).
MATCH (t:Theme)
OPTIONAL MATCH (r:Review)-[:RAISES]->(t)
WITH t, count(DISTINCT r) AS reviews, min(r.year) AS first_year, max(r.year) AS last_year
SET t.reviews = reviews, t.first_year = first_year, t.last_year = last_year;

// Family members: the missed opportunities that concern them.
MATCH (f:FamilyMember)
WITH f, COUNT { (:MissedOpportunity)-[:CONCERNS]->(f) } AS n
WHERE f.missed_opportunities IS NULL OR f.missed_opportunities <> n
SET f.missed_opportunities = n;

// Learning points: the highest SIMILAR_TO score (none without one).
MATCH (p:LearningPoint)
OPTIONAL MATCH (p)-[s:SIMILAR_TO]-(:LearningPoint)
WITH p, max(s.score) AS best
WHERE coalesce(p.best_score <> best, p.best_score IS NOT NULL OR best IS NOT NULL)
SET p.best_score = best;

// ... and how many of their SIMILAR_TO have it.
MATCH (p:LearningPoint)
WHERE p.best_score IS NOT NULL OR p.best_links IS NOT NULL
WITH p, CASE WHEN p.best_score IS NULL THEN null ELSE COUNT { (p)-[s:SIMILAR_TO]-(:LearningPoint) WHERE s.score = p.best_score } END AS n
WHERE coalesce(p.best_links <> n, p.best_links IS NOT NULL OR n IS NOT NULL)
SET p.best_links = n;

// Learning points: their place in the order of best_score (highest first), then id.
MATCH (p:LearningPoint)
WHERE p.best_score IS NOT NULL
WITH p
ORDER BY p.best_score DESC, p.id
WITH collect(p) AS points
UNWIND range(0, size(points) - 1) AS i
WITH points[i] AS p, i + 1 AS rank
WHERE p.best_rank IS NULL OR p.best_rank <> rank
SET p.best_rank = rank;

MATCH (p:LearningPoint)
WHERE p.best_score IS NULL AND p.best_rank IS NOT NULL
REMOVE p.best_rank;

// Kinds of learning point: by whom the points are addressed to, and in how many reviews.
MATCH (lp:LearningPoint)
WHERE lp.kind IS NOT NULL
WITH lp.kind AS kind, lp.review_id AS review_id,
     CASE
       WHEN lp.all_agencies THEN 'all'
       WHEN lp.addressees = 1 THEN 'one'
       WHEN lp.addressees > 1 THEN 'several'
       ELSE 'none'
     END AS addressed_to
WITH kind,
     count(CASE WHEN addressed_to = 'all' THEN 1 END) AS all_agencies,
     count(DISTINCT CASE WHEN addressed_to = 'all' THEN review_id END) AS all_agencies_reviews,
     count(CASE WHEN addressed_to = 'one' THEN 1 END) AS one_agency,
     count(DISTINCT CASE WHEN addressed_to = 'one' THEN review_id END) AS one_agency_reviews,
     count(CASE WHEN addressed_to = 'several' THEN 1 END) AS several_agencies,
     count(DISTINCT CASE WHEN addressed_to = 'several' THEN review_id END) AS several_agencies_reviews,
     count(CASE WHEN addressed_to = 'none' THEN 1 END) AS no_agency,
     count(DISTINCT CASE WHEN addressed_to = 'none' THEN review_id END) AS no_agency_reviews
MERGE (k:LearningKind {name: kind})
SET k.all_agencies = all_agencies, k.all_agencies_reviews = all_agencies_reviews,
    k.one_agency = one_agency, k.one_agency_reviews = one_agency_reviews,
    k.several_agencies = several_agencies, k.several_agencies_reviews = several_agencies_reviews,
    k.no_agency = no_agency, k.no_agency_reviews = no_agency_reviews;

MATCH (k:LearningKind)
WHERE NOT EXISTS { (lp:LearningPoint) WHERE lp.kind = k.name }
DELETE k;
