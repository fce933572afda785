"""``chatbot mail``: read the local mailbox the local SMTP server fills (and run that server)."""

from __future__ import annotations

import time

import typer

from chatbot.config import load_settings
from chatbot.errors import MailNotFoundError
from chatbot.notify.mailbox import Mailbox, MailSummary

mail_app = typer.Typer(
    name="mail", help="Expert emails received by the local SMTP server.", no_args_is_help=True
)


def summary_line(summary: MailSummary) -> str:
    date = f"{summary.date:%Y-%m-%d %H:%M:%S}" if summary.date else "-"
    return f"{summary.id}  {date}  {summary.to or ', '.join(summary.delivered_to)}  {summary.subject}"


@mail_app.command("list")
def list_mail() -> None:
    """One line per received mail, oldest first: id, date, to, subject."""
    mailbox = Mailbox(load_settings().mail_dir)
    for summary in mailbox.summaries():
        typer.echo(summary_line(summary))


@mail_app.command("show")
def show_mail(mail_id: str = typer.Argument(..., help="Id from `chatbot mail list`.")) -> None:
    """Headers and text body of one mail."""
    mailbox = Mailbox(load_settings().mail_dir)
    try:
        content = mailbox.read(mail_id)
    except MailNotFoundError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=1) from error
    for name, value in content.headers:
        typer.echo(f"{name}: {value}")
    typer.echo("")
    typer.echo(content.text)


@mail_app.command("serve")
def serve_mail() -> None:
    """Run the local SMTP server on smtp_host:smtp_port, storing mail under data_dir/mail, until Ctrl-C."""
    from infra.local.smtp import start_smtp_server

    settings = load_settings()
    server = start_smtp_server(settings.mail_dir, host=settings.smtp_host, port=settings.smtp_port)
    typer.echo(f"SMTP on {server.host}:{server.port}, mailbox {settings.mail_dir} (Ctrl-C stops)")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


def register(app: typer.Typer) -> None:
    """Add ``chatbot mail list|show|serve`` to the ``chatbot`` app."""
    app.add_typer(mail_app)
