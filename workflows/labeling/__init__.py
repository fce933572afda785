"""Labeling: export of redacted question/answer pairs, Ground Truth custom task, local labeling page."""
