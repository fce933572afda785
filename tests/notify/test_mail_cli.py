"""``chatbot mail list`` and ``chatbot mail show ID`` on mail the local SMTP server received."""

from __future__ import annotations

import typer
from typer.testing import CliRunner

from chatbot.config import load_settings
from chatbot.notify.cli import register
from chatbot.notify.compose import expert_email
from chatbot.notify.mailer import SmtpMailer
from infra.local.smtp import SmtpServer


def mail_cli() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.command()
    def version() -> None:  # a second command keeps `mail` a sub-command, as in the real app
        typer.echo("0")

    return app


def send(server: SmtpServer, subject: str, to: str, text: str) -> None:
    SmtpMailer("127.0.0.1", server.port).send(
        expert_email(subject, text, sender="bot@example.com", recipients=[to])
    )


def test_mail_list_prints_one_line_per_mail_oldest_first(smtp_server: SmtpServer) -> None:
    assert smtp_server.mailbox.root == load_settings().mail_dir  # the CLI reads what the server stored
    send(smtp_server, "First case", "alice@example.com", "one")
    send(smtp_server, "Second case", "bob@example.com", "two")

    result = CliRunner().invoke(mail_cli(), ["mail", "list"])

    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(smtp_server.mailbox.ids()[0])
    assert "alice@example.com" in lines[0] and lines[0].endswith("First case")
    assert "bob@example.com" in lines[1] and lines[1].endswith("Second case")


def test_mail_show_prints_headers_and_text(smtp_server: SmtpServer) -> None:
    send(smtp_server, "Case <1>", "alice@example.com", "Customer wrote: <b>hi</b>\nsecond line")
    [mail_id] = smtp_server.mailbox.ids()

    result = CliRunner().invoke(mail_cli(), ["mail", "show", mail_id])

    assert result.exit_code == 0, result.output
    assert "Subject: Case <1>" in result.output
    assert "To: alice@example.com" in result.output
    assert "Customer wrote: <b>hi</b>\nsecond line" in result.output
    assert "<!DOCTYPE html>" not in result.output  # the text body, not the HTML part


def test_mail_show_of_an_unknown_id_fails_clearly(smtp_server: SmtpServer) -> None:
    result = CliRunner().invoke(mail_cli(), ["mail", "show", "20990101T000000000000-abcdef"])
    garbage = CliRunner().invoke(mail_cli(), ["mail", "show", "../../etc/passwd"])

    assert result.exit_code == 1
    assert "no mail 20990101T000000000000-abcdef" in result.output
    assert garbage.exit_code == 1
    assert "not a mail id" in garbage.output


def test_mail_list_of_an_empty_mailbox_prints_nothing() -> None:
    result = CliRunner().invoke(mail_cli(), ["mail", "list"])

    assert result.exit_code == 0
    assert result.output == ""
