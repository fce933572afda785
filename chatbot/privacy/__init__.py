"""Privacy: PII redaction of text and transcripts before anything leaves for labeling."""
