"""Expert email through a real SMTP server (aiosmtpd on loopback) into the local mailbox."""

from __future__ import annotations

from email import policy
from email.parser import BytesParser

import pytest

from chatbot.config import load_settings
from chatbot.errors import MailDeliveryError, MailError
from chatbot.notify.compose import expert_email
from chatbot.notify.mailer import SmtpMailer
from chatbot.notify.relay import ExpertEmailRelay
from infra.local.ports import free_port
from infra.local.smtp import SmtpServer

SCRIPT = "<script>alert(1)</script>"
CASE_LINK = "http://localhost:8502/?conversation_id=20250301-0a1b2c3d4e5f"
TEXT = (
    f"A customer conversation needs an expert.\n\nCustomer wrote: {SCRIPT}\n\nOpen the case:\n{CASE_LINK}\n"
)


def relay_for(server: SmtpServer) -> ExpertEmailRelay:
    settings = load_settings(
        smtp_port=server.port,
        expert_emails_tier1="alice@example.com, bob@example.com",
        expert_emails_tier2=["carol@example.com"],
    )
    return ExpertEmailRelay.from_settings(settings, SmtpMailer.from_settings(settings))


def test_a_notification_reaches_the_tier_experts_with_its_subject(smtp_server: SmtpServer) -> None:
    recipients = relay_for(smtp_server).relay(
        "Escalation: Unhappy customer", TEXT, tier=1, conversation_id="20250301-0a1b2c3d4e5f"
    )

    [summary] = smtp_server.mailbox.summaries()
    assert recipients == ["alice@example.com", "bob@example.com"]
    assert summary.subject == "Escalation: Unhappy customer"
    assert summary.to == "alice@example.com, bob@example.com"
    assert summary.delivered_to == ["alice@example.com", "bob@example.com"]
    assert summary.sender == "support-chatbot@example.com"
    assert summary.date is not None


def test_tier_two_goes_to_the_tier_two_experts(smtp_server: SmtpServer) -> None:
    relay_for(smtp_server).relay("Escalation", TEXT, tier=2, conversation_id="20250301-0a1b2c3d4e5f")

    [summary] = smtp_server.mailbox.summaries()
    assert summary.delivered_to == ["carol@example.com"]


def test_customer_markup_arrives_inert(smtp_server: SmtpServer) -> None:
    relay_for(smtp_server).relay("Escalation", TEXT, tier=1, conversation_id="20250301-0a1b2c3d4e5f")

    [mail_id] = smtp_server.mailbox.ids()
    content = smtp_server.mailbox.read(mail_id)
    assert content.html is not None
    assert "<script" not in content.html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content.html
    assert f'<a href="{CASE_LINK}">' in content.html  # the case link stays usable
    assert SCRIPT in content.text  # plain text shows what the customer typed, and plain text never runs
    raw = (smtp_server.mailbox.root / f"{mail_id}.eml").read_bytes()
    parsed = BytesParser(policy=policy.default).parsebytes(raw)
    assert [part.get_content_type() for part in parsed.walk()] == [
        "multipart/alternative",
        "text/plain",
        "text/html",
    ]


def test_markup_in_the_subject_is_escaped_in_the_html_too() -> None:
    message = expert_email(
        f"Help {SCRIPT}\r\nBcc: everyone@example.com",
        "text",
        sender="s@example.com",
        recipients=["a@example.com"],
    )

    html_part = message.get_body(preferencelist=("html",))
    assert html_part is not None
    assert "<script" not in html_part.get_content()
    assert message["Subject"] == f"Help {SCRIPT} Bcc: everyone@example.com"  # one header line, no injection
    assert message["Bcc"] is None


def test_a_tier_without_addresses_is_a_clear_error(smtp_server: SmtpServer) -> None:
    with pytest.raises(MailDeliveryError, match="CHATBOT_EXPERT_EMAILS_TIER3"):
        relay_for(smtp_server).relay("Escalation", TEXT, tier=3, conversation_id="20250301-0a1b2c3d4e5f")
    with pytest.raises(MailError, match="recipient"):
        expert_email("s", "t", sender="s@example.com", recipients=[])


def test_an_unreachable_smtp_server_is_a_delivery_error() -> None:
    port = free_port()
    mailer = SmtpMailer("127.0.0.1", port, timeout_s=2)

    with pytest.raises(MailDeliveryError, match=f"127.0.0.1:{port}"):
        mailer.send(expert_email("s", "t", sender="s@example.com", recipients=["a@example.com"]))
