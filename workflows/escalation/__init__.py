"""The human-escalation Step Functions workflow: its ASL definition, events and expert actions."""
