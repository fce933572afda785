"""Small pieces every Streamlit page of the product shares, light enough for any page to import."""

from __future__ import annotations

import streamlit as st

from chatbot.config import Settings, load_settings
from chatbot.logging import configure_logging

NOTICE_KEY = "notice"


@st.cache_resource(show_spinner=False)
def settings() -> Settings:
    """The process's settings, read once, with logging configured from them."""
    loaded = load_settings()
    configure_logging(loaded.log_level, loaded.log_format)
    return loaded


def keep_notice(kind: str, text: str) -> None:
    """Show ``text`` as ``st.<kind>`` (success, info, warning, error) on the next run of any page."""
    st.session_state[NOTICE_KEY] = (kind, text)


def show_notice() -> None:
    """Show, once, the notice a button callback kept for this run."""
    notice = st.session_state.pop(NOTICE_KEY, None)
    if notice is not None:
        kind, text = notice
        getattr(st, kind)(text)
