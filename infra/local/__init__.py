"""The local stack: moto server for AWS APIs, an SMTP server, in-process Lambdas and Streamlit."""
