"""Objects a Streamlit process loads once (``st.cache_resource``) and every session shares."""

from __future__ import annotations

import atexit

import streamlit as st

from chatbot.config import Settings, load_settings
from chatbot.logging import configure_logging
from chatbot.services import ChatServices


@st.cache_resource(show_spinner=False)
def settings() -> Settings:
    loaded = load_settings()
    configure_logging(loaded.log_level, loaded.log_format)
    return loaded


@st.cache_resource(show_spinner="Loading the knowledge base and models…")
def chat_services() -> ChatServices:
    services = ChatServices.load(settings())
    atexit.register(services.close)
    return services
