"""Workflows: the escalation state machine, labeling and training."""
