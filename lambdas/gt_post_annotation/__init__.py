"""Ground Truth post-annotation (annotation consolidation) Lambda for the answer-relevance task."""
