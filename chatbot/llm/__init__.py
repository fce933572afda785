"""Chat models: SmolLM2 through llama.cpp locally, Bedrock (Titan by default) in AWS."""
