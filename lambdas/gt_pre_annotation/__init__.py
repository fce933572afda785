"""Ground Truth pre-annotation Lambda for the answer-relevance task."""
