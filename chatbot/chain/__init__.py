"""One customer turn: input guard, sentiment, escalation decision, retrieval and the answer."""
