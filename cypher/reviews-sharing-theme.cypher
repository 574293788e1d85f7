// name: reviews-sharing-theme
// description: The reviews that raise one theme, oldest first, with how often each mentions it and the first quote; the first $limit rows.
// params: theme="Information sharing", limit=100
// defaults: limit=100
// A theme such as information sharing is raised by most reviews of a national corpus
// (1,800 of 2,000 in the synthetic one): every row carries a quote, so the rows are cut
// to $limit (pass a larger limit for all of them).
MATCH (r:Review)-[x:RAISES]->(t:Theme {name: $theme})
RETURN r.id AS review_id, r.title AS title, r.year AS year, r.board AS board,
       x.mentions AS mentions, x.section AS section, x.quote AS quote
ORDER BY year, review_id
LIMIT $limit;
