// name: breakdown-agencies
// description: Agencies most often at either end of a broken communication link: how many breakdowns, how many as the sender and as the receiver, in how many reviews.
// params:
// One pass over the broken links for the totals and reviews, one over each agency's
// outgoing broken links for as_sender; as_receiver is the rest (a link never joins an
// agency to itself). count(l), not count(DISTINCT l.id): every link is one relationship.
MATCH (a:Agency)-[l:COMMUNICATION]-(:Agency)
WHERE l.status = 'broken'
WITH a, count(l) AS breakdowns, count(DISTINCT l.review_id) AS reviews
OPTIONAL MATCH (a)-[o:COMMUNICATION]->(:Agency)
WHERE o.status = 'broken'
WITH a, breakdowns, reviews, count(o) AS as_sender
RETURN a.name AS agency, a.sector AS sector, breakdowns, as_sender, breakdowns - as_sender AS as_receiver, reviews
ORDER BY breakdowns DESC, agency;
