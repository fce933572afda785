"""PII redaction on adversarial text: what must go, what must stay, and what the report counts."""

from __future__ import annotations

import pytest

from chatbot.config import load_settings
from chatbot.conversation.transcript import Role, Transcript, Turn
from chatbot.errors import ConfigError
from chatbot.privacy.redaction import RedactionReport, Redactor, luhn_valid
from chatbot.privacy.transcripts import redact_transcript

REDACTOR = Redactor()


def redacted(text: str) -> str:
    return REDACTOR.redact(text).text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("write to jane.doe@example.com", "write to [EMAIL]"),
        ("jane.doe+sagemaker-alerts@mail.eu.corp.example.co.uk.", "[EMAIL]."),
        ("<JOHN_O'NEIL@Example.ORG>", "<JOHN_O'[EMAIL]>"),  # apostrophes are rare; the domain still goes
        ("mailto:a.b-c@sub.domain.io?subject=x", "mailto:[EMAIL]?subject=x"),
    ],
)
def test_email_addresses(text: str, expected: str) -> None:
    assert redacted(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("call +1 (555) 010-9999 now", "call [PHONE] now"),
        ("555.010.9999", "[PHONE]"),
        ("(555) 010-9999 or 555-010-9999 or 1-555-010-9999", "[PHONE] or [PHONE] or [PHONE]"),
        ("UK +44 20 7946 0958, DE +49 30 901820, FR +33 1 23 45 67 89", "UK [PHONE], DE [PHONE], FR [PHONE]"),
        ("India +91 98765 43210; Japan +81-3-1234-5678", "India [PHONE]; Japan [PHONE]"),
        ("call me at 5550109999 tomorrow", "call me at [PHONE] tomorrow"),
        ("my mobile number is 07700 900123", "my mobile number is [PHONE]"),
    ],
)
def test_phone_numbers(text: str, expected: str) -> None:
    assert redacted(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "card 4111 1111 1111 1111 expired",
        "card 4111-1111-1111-1111 expired",
        "card 4111111111111111 expired",
        "card 5500 0000 0000 0004 expired",
        "card 3782 822463 10005 expired",  # Amex grouping
        "card 6011000990139424 expired",
    ],
)
def test_payment_cards_that_pass_luhn(text: str) -> None:
    assert redacted(text) == "card [CARD] expired"


@pytest.mark.parametrize(
    "text",
    [
        "order 4111111111111112 was charged twice",  # 16 digits failing Luhn
        "order #1234567890123456 shipped",  # starts with 1: no card network
        "ticket 20240501123456 opened at 1714557600000 (epoch ms) and 1714557600",
        "arn:aws:sagemaker:us-east-1:123456789012:endpoint/my-endpoint",
        "I run 16 ml.m5.xlarge instances and 4 ml.g5.12xlarge ones, 1000000 requests a day",
        "job finished at 2024-05-01T10:30:00Z after 3600 seconds, cost $1,234.56",
        "4111 1111 1111 1112 is not valid",  # grouped, failing Luhn
        "pi is 3.4111111111111111",  # digits after a decimal point
        "part number 41111111111111111111111",  # too long for a card
        "tracking 4111 11111 1111 111",  # a valid Luhn sum but not card grouping
    ],
)
def test_numbers_that_are_not_cards_or_phones_stay(text: str) -> None:
    assert redacted(text) == text


def test_luhn() -> None:
    assert luhn_valid("4111111111111111")
    assert luhn_valid("378282246310005")
    assert not luhn_valid("4111111111111112")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("key AKIAIOSFODNN7EXAMPLE here", "key [AWS_ACCESS_KEY] here"),
        ("temporary ASIAY34FZKBOKMUTVV7A", "temporary [AWS_ACCESS_KEY]"),
        ("split AKIAIOSF ODNN7EXAMPLE here", "split [AWS_ACCESS_KEY] here"),
        ("groups AKIA IOSF ODNN 7EXA MPLE end", "groups [AWS_ACCESS_KEY] end"),
        ("wrapped AKIAIOSFODNN\n7EXAMPLE end", "wrapped [AWS_ACCESS_KEY] end"),
        (
            "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "aws_secret_access_key = [AWS_SECRET]",
        ),
        ("secret: wJalrXUtnFEMI/K7MDENG\n/bPxRfiCYEXAMPLEKEY", "secret: [AWS_SECRET]"),
        ("pasted wJalrXUtnFEMI/K7MDENG /bPxRfiCYEXAMPLEKEY", "pasted [AWS_SECRET]"),
        ("bare Zp4k8Qv2Lm7Xr1Tn9Bw3Hy6Jc5Fd0Ga/Ks+Ue2Wq here", "bare [AWS_SECRET] here"),
        (
            "AKIAIOSFODNN7EXAMPLE\nwJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "[AWS_ACCESS_KEY]\n[AWS_SECRET]",
        ),
    ],
)
def test_aws_keys_whole_or_split(text: str, expected: str) -> None:
    assert redacted(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "ASIA PACIFIC REGION ONE is where we deploy",  # prefix-like words without digits
        "commit de9f2c7fd25e1b3afad3e85a0bd17d9b100db4b3 fixed it",  # a SHA-1, lower-case hex
        "the field ThisIsAVeryLongCamelCaseIdentifierName12 is set",
        "s3://bucket/Prefix1/SubFolder2/Data3/file1234 holds data",
        "role sagemakerExecutionRoleArnForTrainingJob1 exists",
    ],
)
def test_key_like_text_stays(text: str) -> None:
    assert redacted(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("from 10.0.0.1 and 192.168.1.254:8080", "from [IP] and [IP]:8080"),
        ("my server is 1.2.3.4", "my server is [IP]"),  # a bare dotted quad: an address
        ("VPC 10.0.0.0/16", "VPC [IP]/16"),
        ("v6 2001:db8::1 or fe80::1ff:fe23:4567:890a%eth0", "v6 [IP] or [IP]%eth0"),
        ("mapped ::ffff:10.0.0.1 and loopback ::1.", "mapped [IP] and loopback [IP]."),
        ("url http://[2001:db8:0:0:0:0:2:1]:8080/", "url http://[[IP]]:8080/"),
    ],
)
def test_ip_addresses(text: str, expected: str) -> None:
    assert redacted(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "upgrade to version 1.2.3.4 today",
        "we run v1.2.3.4 in prod",
        "pin boto3==1.34.0.1 or sagemaker>=2.200.1.0",
        "release: 10.2.0.1 is out",
        "build 4.5.6.7-beta failed",
        "a dotted version 1.2.3.4.5 and a triple 1.2.3",
        "999.1.1.1 is not an address",
        "at 12:30:45 the MAC 00:1a:2b:3c:4d:5e and std::vector",
        "image 763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.0.0-gpu-py310",
        "instance ml.m5.xlarge in arn:aws:iam::123456789012:role/SageMakerRole",
    ],
)
def test_versions_and_sagemaker_names_are_not_addresses(text: str) -> None:
    assert redacted(text) == text


def test_configured_patterns_add_types_and_win_over_built_ins() -> None:
    redactor = Redactor({"ACCOUNT_ID": r"\b\d{12}\b", "ORDER": r"ORD-\d{6}"})
    result = redactor.redact("arn:aws:iam::123456789012:role/x, order ORD-123456, mail a@b.io")
    assert result.text == "arn:aws:iam::[ACCOUNT_ID]:role/x, order [ORDER], mail [EMAIL]"
    assert result.counts == {"ACCOUNT_ID": 1, "ORDER": 1, "EMAIL": 1}


@pytest.mark.parametrize(
    ("patterns", "message"),
    [
        ({"ACCOUNT_ID": "(unclosed"}, "CHATBOT_REDACTION_PATTERNS.*ACCOUNT_ID.*bad regex"),
        ({"lower_case": "x"}, "CHATBOT_REDACTION_PATTERNS.*upper-case"),
        ({"EMPTY": "a*"}, "CHATBOT_REDACTION_PATTERNS.*empty string"),
    ],
)
def test_a_bad_configured_pattern_names_the_setting(patterns: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(redaction_patterns=patterns)
    with pytest.raises(ConfigError, match=message):
        Redactor(patterns)


def test_a_bad_pattern_from_the_environment_fails_at_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATBOT_REDACTION_PATTERNS", '{"TICKET": "[unterminated"}')
    with pytest.raises(ConfigError, match=r"CHATBOT_REDACTION_PATTERNS.*TICKET"):
        load_settings()
    monkeypatch.setenv("CHATBOT_REDACTION_PATTERNS", '{"TICKET": "TCK-\\\\d+"}')
    assert Redactor.from_settings(load_settings()).redact("see TCK-42").text == "see [TICKET]"


def test_redacting_twice_changes_nothing_and_counts_nothing_new() -> None:
    redactor = Redactor({"WORD": r"[A-Z]{4,}"})  # would match inside placeholders if they were not protected
    once = redactor.redact("mail a@b.io from 10.0.0.1 about HELLO")
    twice = redactor.redact(once.text)
    assert once.text == "mail [EMAIL] from [IP] about [WORD]"
    assert twice.text == once.text
    assert not twice.findings


def test_the_report_counts_by_type_across_texts() -> None:
    report = RedactionReport()
    REDACTOR.redact("a@b.io and c@d.io", report)
    REDACTOR.redact("card 4111 1111 1111 1111, ip 10.1.1.1", report)
    assert report.as_dict() == {"CARD": 1, "EMAIL": 2, "IP": 1}
    assert report.total == 4
    assert report.summary() == "CARD=1, EMAIL=2, IP=1"
    assert RedactionReport().summary() == "nothing redacted"


def test_a_transcript_is_redacted_turn_by_turn_and_the_original_is_kept() -> None:
    transcript = Transcript(
        conversation_id="20240501-0123456789ab",
        turns=[
            Turn(role=Role.CUSTOMER, text="I am bob@example.com, +1 (555) 010-9999"),
            Turn(role=Role.BOT, text="Your endpoint ml.m5.xlarge is fine.", withheld=True),
        ],
    )
    report = RedactionReport()
    clean = redact_transcript(transcript, REDACTOR, report)
    assert [turn.text for turn in clean.turns] == [
        "I am [EMAIL], [PHONE]",
        "Your endpoint ml.m5.xlarge is fine.",
    ]
    assert clean.turns[1].withheld
    assert transcript.turns[0].text.startswith("I am bob@")
    assert report.as_dict() == {"EMAIL": 1, "PHONE": 1}
