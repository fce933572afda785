"""Objects a Streamlit process loads once (``st.cache_resource``) and every session shares."""

from __future__ import annotations

import atexit

import streamlit as st

from chatbot.services import ChatServices
from chatbot.ui.page_support import settings

__all__ = ["chat_services", "settings"]


@st.cache_resource(show_spinner="Loading the knowledge base and models…")
def chat_services() -> ChatServices:
    services = ChatServices.load(settings())
    atexit.register(services.close)
    return services
