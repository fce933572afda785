"""Customer sentiment: a trained local classifier, and the LLM judge used with Bedrock."""
