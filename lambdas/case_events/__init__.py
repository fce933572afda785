"""``caseEvents``: applies the escalation workflow's SQS messages to the shared conversation state."""
