"""The customer's chat page: ``streamlit run chatbot/app.py`` (``make run`` starts it with the stack)."""

from __future__ import annotations

import streamlit as st

from chatbot.chain.prompts import WAITING_MESSAGE
from chatbot.conversation.session import BotTurn, ChatSession
from chatbot.conversation.state import ConversationStatus
from chatbot.conversation.transcript import Rating, Role, Turn
from chatbot.errors import ChatbotError, InvalidMessageError
from chatbot.models import Source
from chatbot.ui import resources
from chatbot.ui.streaming import coalesce

st.set_page_config(page_title="SageMaker support", page_icon="💬")

STATUS_LABELS = {
    ConversationStatus.BOT: "You are chatting with the SageMaker assistant.",
    ConversationStatus.WAITING_FOR_EXPERT: "A support expert has been asked to join.",
    ConversationStatus.RESOLVED: "This conversation is resolved.",
}
FEEDBACK_RATINGS = {0: Rating.THUMBS_DOWN, 1: Rating.THUMBS_UP}


def current_session() -> ChatSession:
    session = st.session_state.get("chat_session")
    if not isinstance(session, ChatSession):
        session = ChatSession(resources.chat_services())
        st.session_state["chat_session"] = session
    return session


def source_link(source: Source) -> str | None:
    template = resources.settings().source_url_template
    if not template:
        return None
    return template.format(stem=source.doc.rsplit(".", 1)[0], doc=source.doc)


def show_sources(sources: list[Source]) -> None:
    if not sources:
        return
    st.caption(
        "Sources: " + " · ".join(f"[{number}] {source.title}" for number, source in enumerate(sources, 1))
    )
    for number, source in enumerate(sources, 1):
        with st.expander(f"[{number}] {source.title}"):
            if source.section and source.section != source.title:
                st.caption(source.section)
            st.write(source.snippet)
            link = source_link(source)
            st.caption(f"[{source.doc}]({link})" if link else source.doc)


def record_feedback(session: ChatSession, turn_id: str) -> None:
    value = st.session_state.get(f"feedback-{turn_id}")
    try:
        session.give_feedback(turn_id, None if value is None else FEEDBACK_RATINGS[value])
    except ChatbotError as error:
        st.toast(f"Your feedback could not be saved: {error}")


def show_turn(session: ChatSession, turn: Turn) -> None:
    if turn.role is Role.CUSTOMER:
        with st.chat_message("user"):
            st.markdown(turn.text)
    elif turn.role is Role.BOT:
        with st.chat_message("assistant"):
            st.markdown(turn.text)
            show_sources(turn.sources)
            if turn.escalation is None:  # an answer, not a handoff message
                st.feedback(
                    "thumbs",
                    key=f"feedback-{turn.turn_id}",
                    on_change=record_feedback,
                    args=(session, turn.turn_id),
                )
    elif turn.role is Role.EXPERT:
        with st.chat_message("expert", avatar="🧑‍💼"):
            st.markdown(f"**{turn.author or 'Support expert'}** · support expert")
            st.markdown(turn.text)
    else:
        st.info(turn.text, icon="ℹ️")


def answer(session: ChatSession, text: str) -> None:
    with st.chat_message("user"):
        st.markdown(text)
    try:
        turn = session.send(text)
    except InvalidMessageError as error:
        st.error(str(error))
        return
    if not isinstance(turn, BotTurn):
        if turn.notice is not None:
            st.info(turn.notice.text, icon="ℹ️")
        return
    with st.chat_message("assistant"):
        placeholder = st.empty()
        if not turn.escalation.escalate:
            placeholder.write_stream(coalesce(turn.text()))
        outcome = turn.finish()
        if outcome.escalation.escalate:
            placeholder.markdown(outcome.response)
    st.rerun()


@st.fragment(run_every=1.5)
def live_updates(session: ChatSession) -> None:
    """Expert messages and notices appear without reloading."""
    if session.poll():
        st.rerun(scope="app")


def main() -> None:
    try:
        session = current_session()
    except ChatbotError as error:
        st.error(f"The assistant could not start: {error}")
        st.stop()
    st.title("Amazon SageMaker support")
    state = session.state()
    status_text = (
        STATUS_LABELS.get(state.status) or f"{state.owner or 'A support expert'} (support expert) is here."
    )
    st.caption(f"Conversation ID: `{session.conversation_id}` · {status_text}")
    with st.sidebar:
        if st.button(
            "Talk to a person", key="talk-to-person", disabled=state.status is not ConversationStatus.BOT
        ):
            message = session.request_human()
            if message == WAITING_MESSAGE:
                st.toast(message)
            st.rerun()
        if st.button("New conversation", key="new-conversation"):
            st.session_state.pop("chat_session", None)
            st.rerun()
    for turn in session.visible_turns():
        show_turn(session, turn)
    live_updates(session)
    prompt = st.chat_input(
        "Ask a question about Amazon SageMaker",
        max_chars=resources.settings().max_message_chars,
        disabled=state.status is ConversationStatus.RESOLVED,
    )
    if isinstance(prompt, str) and prompt:
        answer(session, prompt)


main()
