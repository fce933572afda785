"""The ``triggerWorkflow`` Lambda: starts the human-escalation workflow for an escalated conversation."""
