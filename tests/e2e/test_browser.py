"""End to end in headless Chromium against the real local stack.

1. A customer asks a question and sees the answer stream in with a citation; an angry message gets the
   handoff message and no answer.
2. Two browser contexts: the customer's angry message emails the experts (real SMTP); the expert opens the
   link, claims and replies; the reply appears on the customer's page; the expert hands back and the bot
   answers the next question.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from playwright.sync_api import Error as PlaywrightError

from infra.local.stack import LocalStack

pytestmark = [pytest.mark.browser, pytest.mark.models, pytest.mark.slow]

QUESTION = "How do I delete a SageMaker Studio domain?"
ANGRY = "This is ridiculous, I have wasted my whole day and your useless bot keeps failing me!"
HANDOFF = re.compile(r"support expert", re.IGNORECASE)
PAGE_TIMEOUT_MS = 120_000
# answers come from a real model on two busy cores
expect.set_options(timeout=90_000)


@pytest.fixture
def customer(browser: Browser, stack: LocalStack) -> Iterator[Page]:
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    page.goto(f"http://127.0.0.1:{stack.settings.app_port}/")
    expect(page.get_by_text("Conversation ID")).to_be_visible()
    yield page
    context.close()


@pytest.fixture
def expert(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    yield page
    context.close()


def send(page: Page, text: str) -> None:
    box = page.get_by_placeholder("Ask a question about Amazon SageMaker")
    box.fill(text)
    box.press("Enter")


def messages(page: Page) -> Locator:
    return page.locator('[data-testid="stChatMessage"]')


def watch_growth(message: Locator, seconds: float) -> list[int]:
    """Lengths of the message's text, sampled while it is written: several values mean streaming."""
    lengths: list[int] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            length = len(message.inner_text(timeout=1_000))
        except PlaywrightError:  # the element is re-rendered between samples
            continue
        if not lengths or lengths[-1] != length:
            lengths.append(length)
        if message.get_by_text("Sources:").count():
            break
        time.sleep(0.03)
    return lengths


def conversation_id(page: Page) -> str:
    caption = page.get_by_text("Conversation ID").inner_text()
    found = re.search(r"\d{8}-[0-9a-f]{12}", caption)
    assert found, caption
    return found.group(0)


def test_a_question_streams_an_answer_with_a_citation_and_anger_gets_the_handoff(customer: Page) -> None:
    send(customer, QUESTION)
    expect(messages(customer)).to_have_count(2)
    answer = messages(customer).nth(1)
    lengths = watch_growth(answer, seconds=60)

    expect(answer.get_by_text("Sources:")).to_be_visible()
    assert len([length for length in lengths if length > 0]) >= 3, f"no streaming seen: {lengths}"
    expect(
        answer.get_by_text(re.compile("Delete an Amazon SageMaker Domain", re.IGNORECASE)).first
    ).to_be_visible()

    send(customer, ANGRY)
    expect(messages(customer)).to_have_count(4)
    reply = messages(customer).nth(3)
    expect(reply).to_contain_text(HANDOFF)
    expect(reply.get_by_text("Sources:")).to_have_count(0)


def test_an_expert_takes_over_from_an_email_link_and_hands_back(
    customer: Page, expert: Page, stack: LocalStack
) -> None:
    assert stack.smtp is not None
    mailbox = stack.smtp.mailbox
    mails_before = set(mailbox.ids())
    the_conversation = conversation_id(customer)

    send(customer, ANGRY)
    expect(messages(customer).last).to_contain_text(HANDOFF)

    deadline = time.monotonic() + 60
    while not (new := [mail for mail in mailbox.ids() if mail not in mails_before]):
        assert time.monotonic() < deadline, "no email reached the SMTP server"
        time.sleep(0.2)
    email = mailbox.read(new[0])
    assert the_conversation in email.subject
    link = re.search(r"https?://\S+conversation_id=[0-9a-f-]+", email.text)
    assert link, email.text

    expert.goto(link.group(0))
    name_box = expert.get_by_role("textbox", name="Your name")
    name_box.fill("Alice")
    name_box.press("Enter")
    expect(messages(expert).filter(has_text=ANGRY).first).to_be_visible()
    expert.get_by_role("button", name="Claim").click()
    expect(expert.get_by_text("You own this case")).to_be_visible()
    reply_box = expert.get_by_placeholder("Reply to the customer")
    reply_box.fill("Hi, I'm Alice from support. Which endpoint is failing?")
    reply_box.press("Enter")

    expect(customer.get_by_text("An expert has joined the conversation.")).to_be_visible()
    expect(customer.get_by_text("Which endpoint is failing?")).to_be_visible()
    expect(customer.get_by_text("Alice", exact=False).first).to_be_visible()

    expert.get_by_role("button", name="Hand back to the bot").click()
    expect(customer.get_by_text(re.compile("handed the conversation back"))).to_be_visible()

    count = messages(customer).count()
    send(customer, QUESTION)
    expect(messages(customer)).to_have_count(count + 2)
    expect(messages(customer).last.get_by_text("Sources:")).to_be_visible()
