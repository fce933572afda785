"""Helpers shared by the tests: real local servers (moto, SMTP, Streamlit, a fake Bedrock endpoint)."""
