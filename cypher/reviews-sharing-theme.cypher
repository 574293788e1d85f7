// name: reviews-sharing-theme
// description: The reviews that raise one theme, oldest first, with how often each mentions it and the first quote.
// params: theme="Information sharing"
MATCH (r:Review)-[x:RAISES]->(t:Theme {name: $theme})
RETURN r.id AS review_id, r.title AS title, r.year AS year, r.board AS board,
       x.mentions AS mentions, x.section AS section, x.quote AS quote
ORDER BY year, review_id;
