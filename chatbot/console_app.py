"""The expert console: ``streamlit run chatbot/console_app.py`` (``make run`` serves it on port 8502).

Pages: the case queue and a case (claim, read, reply live, hand back, resolve), and local labeling.
Escalation emails link to ``<console>/?conversation_id=<id>``.
"""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from chatbot.conversation.expert_desk import ExpertDesk, checked_expert_name, normalized_expert_name
from chatbot.conversation.recorder import TranscriptRecorder
from chatbot.conversation.state import (
    ConversationState,
    ConversationStatus,
    LiveMessage,
)
from chatbot.conversation.state_factory import make_state_store
from chatbot.conversation.transcript import Role
from chatbot.errors import ChatbotError
from chatbot.ui import page_support

st.set_page_config(page_title="Expert console · SageMaker support", page_icon="🧑‍💼", layout="wide")


@st.cache_resource(show_spinner=False)
def expert_desk() -> ExpertDesk:
    settings = page_support.settings()
    recorder = TranscriptRecorder.from_settings(settings)
    return ExpertDesk(settings, make_state_store(settings), recorder)


def age(state: ConversationState) -> str:
    if state.escalated_at is None:
        return "—"
    minutes = int((datetime.now(UTC) - state.escalated_at).total_seconds() // 60)
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h"


def sentiment_text(state: ConversationState) -> str:
    if state.sentiment is None:
        return "—"
    return f"{state.sentiment.label.value} (P(neg) {state.sentiment.negative:.2f})"


def open_case(conversation_id: str) -> None:
    st.query_params["conversation_id"] = conversation_id


def show_queue(desk: ExpertDesk) -> None:
    st.subheader("Open cases")
    cases = desk.queue()
    if not cases:
        st.caption("No open cases.")
        return
    header = st.columns([3, 2, 1, 2, 2, 2, 1])
    for column, title in zip(
        header, ["Conversation", "Status", "Age", "Reason", "Sentiment", "Owner", ""], strict=True
    ):
        column.markdown(f"**{title}**")
    for state in cases:
        row = st.columns([3, 2, 1, 2, 2, 2, 1])
        row[0].code(state.conversation_id, language=None)
        row[1].write(state.status.value.replace("_", " ") + (f" · tier {state.tier}" if state.tier else ""))
        row[2].write(age(state))
        row[3].write(state.reason.value.replace("_", " ") if state.reason else "—")
        row[4].write(sentiment_text(state))
        row[5].write(state.owner or "—")
        row[6].button(
            "Open", key=f"open-{state.conversation_id}", on_click=open_case, args=(state.conversation_id,)
        )


def show_message(message: LiveMessage) -> None:
    if message.role is Role.CUSTOMER:
        with st.chat_message("user"):
            st.markdown(message.text)
    elif message.role is Role.BOT:
        with st.chat_message("assistant"):
            if message.withheld:
                st.warning("Withheld: the bot's answer was not shown to the customer.", icon="🙈")
            st.markdown(message.text)
    elif message.role is Role.EXPERT:
        with st.chat_message("expert", avatar="🧑‍💼"):
            st.markdown(f"**{message.author}** · support expert")
            st.markdown(message.text)
    else:
        st.info(message.text, icon="ℹ️")


def act(action: str, conversation_id: str) -> None:
    """Button callbacks: run the desk action, keep the outcome for the next run to show."""
    desk = expert_desk()
    expert = st.session_state.get("expert_name", "")
    try:
        if action == "claim":
            desk.claim(conversation_id, expert)
            page_support.keep_notice("success", "You own this case. The customer sees that you joined.")
        elif action == "decline":
            desk.decline(conversation_id, expert, st.session_state.get("decline_reason", ""))
            page_support.keep_notice("info", "Declined: the case is offered again.")
        elif action == "hand_back":
            desk.hand_back(conversation_id, expert)
            page_support.keep_notice("info", "Handed back to the bot.")
        elif action == "resolve":
            desk.resolve(conversation_id, expert)
            page_support.keep_notice("success", "Resolved.")
    except ChatbotError as error:  # a second claim included: "already taken by <owner>"
        page_support.keep_notice("error", str(error))


@st.fragment(run_every=1.5)
def live_case(conversation_id: str) -> None:
    desk = expert_desk()
    state = desk.case(conversation_id)
    owner = f" · owner **{state.owner}**" if state.owner else ""
    stage = f" · workflow {state.workflow_stage.value.replace('_', ' ')}" + (
        f" (tier {state.tier})" if state.tier else ""
    )
    st.markdown(f"Status **{state.status.value.replace('_', ' ')}**{owner}{stage}")
    if state.summary:
        st.caption(state.summary)
    for message in desk.messages(conversation_id):
        show_message(message)
    if state.status is ConversationStatus.WAITING_FOR_EXPERT:
        desk.keep_offer_alive(state)


def show_case(desk: ExpertDesk, conversation_id: str) -> None:
    try:
        state = desk.case(conversation_id)
    except ChatbotError as error:
        st.error(str(error))
        return
    st.subheader(f"Case {conversation_id}")
    st.button("Back to the queue", on_click=lambda: st.query_params.clear())
    page_support.show_notice()
    live_case(conversation_id)
    expert = st.session_state.get("expert_name", "")
    if state.status is ConversationStatus.WAITING_FOR_EXPERT:
        left, right = st.columns(2)
        left.button("Claim", key="claim", type="primary", on_click=act, args=("claim", conversation_id))
        with right:
            st.text_input("Reason to decline", key="decline_reason")
            st.button("Decline", key="decline", on_click=act, args=("decline", conversation_id))
    elif state.status is ConversationStatus.EXPERT and state.owner == normalized_expert_name(expert):
        left, right = st.columns(2)
        left.button(
            "Hand back to the bot", key="hand_back", on_click=act, args=("hand_back", conversation_id)
        )
        right.button("Resolve", key="resolve", on_click=act, args=("resolve", conversation_id))
        reply = st.chat_input("Reply to the customer", key="reply")
        if reply:
            try:
                desk.reply(conversation_id, expert, reply)
            except ChatbotError as error:
                st.error(str(error))
            st.rerun()
    elif state.status is ConversationStatus.EXPERT:
        st.info(f"{state.owner} owns this case.")


def cases_page() -> None:
    st.title("Expert console")
    with st.sidebar:
        st.text_input("Your name", key="expert_name", help="Customers see it next to your messages.")
        name = st.session_state.get("expert_name", "")
        if name:
            try:
                checked_expert_name(name)
            except ChatbotError as error:
                st.error(str(error))
    desk = expert_desk()
    conversation_id = st.query_params.get("conversation_id")
    if conversation_id:
        show_case(desk, conversation_id)
    else:
        show_queue(desk)


navigation = st.navigation(
    [
        st.Page(cases_page, title="Cases", icon="📥", default=True),
        st.Page("ui/labeling_page.py", title="Labeling", icon="🏷️", url_path="labeling"),
    ]
)
navigation.run()
