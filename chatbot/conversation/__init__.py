"""Conversations: ids, transcripts and where they are stored, and escalation requests."""
