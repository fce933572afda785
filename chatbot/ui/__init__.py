"""Streamlit pages: the customer's chat, the expert console, the local labeling page."""
