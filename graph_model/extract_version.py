"""The extractor's version: part of the key of the workspace's extraction cache.

A document whose content, extractor version and taxonomy are unchanged since the last build
is not extracted again (``graph_model/extract_cache.py``). **Bump this number whenever a
change to the reading or extraction code (read.py, extract/, timeline.py, confidence.py,
the graph fragment a review makes in build.py, or the similarity tokens in recurring.py)
can change what a document gives**: the next build then extracts every document again and
says why. Forgetting to bump it leaves old extractions in use until ``sgraph build --full``.
"""

EXTRACTOR_VERSION = 1
