"""``chatbot transcripts export`` end to end against the moto server: output, summary, errors, exit codes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner, Result

from chatbot.config import Settings
from infra.local.ports import free_port
from tests.labeling.test_export_helpers import (
    MAY_1,
    Bucket,
    empty_and_delete,
    fresh_bucket,
    support_transcript,
)
from workflows.labeling.cli import EXIT_FAILED, EXIT_SKIPPED, EXIT_USAGE, register
from workflows.labeling.input_manifest import parse_input_manifest

RANGE = ["--since", "2024-05-01", "--until", "2024-05-01"]


def chatbot_app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.callback()
    def main() -> None:
        """Keep ``transcripts`` a sub-command, as in the real ``chatbot`` app."""

    return app


@pytest.fixture
def bucket(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Bucket]:
    filled = fresh_bucket(settings)
    filled.add(support_transcript(MAY_1))
    filled.add(support_transcript(MAY_1, escalated=True))
    monkeypatch.setenv("CHATBOT_AWS_ENDPOINT_URL", settings.aws_endpoint_url or "")
    monkeypatch.setenv("CHATBOT_TRANSCRIPT_BUCKET", filled.name)
    yield filled
    empty_and_delete(filled)


def run(*arguments: str) -> Result:
    return CliRunner().invoke(chatbot_app(), ["transcripts", "export", *arguments])


def test_export_writes_the_output_and_prints_counts_and_the_redaction_report(
    bucket: Bucket, tmp_path: Path
) -> None:
    out = tmp_path / "t.jsonl"
    result = run(*RANGE, "--out", str(out))

    assert result.exit_code == 0, result.output
    assert len(out.read_text(encoding="utf-8").splitlines()) == 2
    assert f"wrote 2 conversations, 2 transcripts (jsonl) to {out}" in result.stdout
    assert "redacted: EMAIL=2, PHONE=2" in result.stdout
    assert "reading" in result.stderr  # the progress bar


def test_skipped_objects_are_named_on_stderr_and_the_exit_code_says_so(
    bucket: Bucket, tmp_path: Path
) -> None:
    bucket.add_bad_objects(MAY_1)
    out = tmp_path / "t.csv"

    result = run(*RANGE, "--format", "csv", "--no-progress", "--out", str(out))

    assert result.exit_code == EXIT_SKIPPED
    for location in bucket.bad_locations:
        assert f"error: skipped {location}: " in result.stderr
    assert "skipped 4 invalid transcript(s)" in result.stderr
    assert "wrote 2 conversations" in result.stdout
    assert len(out.read_text(encoding="utf-8").splitlines()) == 1 + sum(
        len(t.turns) for t in bucket.transcripts
    )


def test_a_gt_manifest_with_items_on_s3_and_the_manifest_on_s3(bucket: Bucket) -> None:
    result = run(
        *RANGE,
        "--format",
        "gt-manifest",
        "--sample",
        "3",
        "--strategy",
        "risk",
        "--seed",
        "11",
        "--source-ref",
        f"s3://{bucket.name}/items/",
        "--out",
        f"s3://{bucket.name}/manifests/in.manifest",
        "--no-progress",
    )

    assert result.exit_code == 0, result.output
    text = bucket.s3.get_object(Bucket=bucket.name, Key="manifests/in.manifest")["Body"].read().decode()
    manifest = parse_input_manifest(text, "in.manifest")
    assert manifest.errors == [] and len(manifest.entries) == 3
    assert all(entry.raw["source-ref"].startswith(f"s3://{bucket.name}/items/") for entry in manifest.entries)
    assert "3 items (gt-manifest)" in result.stdout


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--since", "2024-05-02", "--until", "2024-05-01"], "2024-05-01 is before --since 2024-05-02"),
        (["--since", "2024-13-01"], "'2024-13-01' is not a date"),
        (["--since", "05/01/2024"], "expected YYYY-MM-DD"),
        ([*RANGE, "--format", "xml"], "'xml' is not one of"),
        ([*RANGE, "--source-ref", "s3://b/items/"], "applies to --format gt-manifest only"),
        ([*RANGE, "--format", "gt-manifest", "--source-ref", "items/"], "is not s3://bucket/prefix/"),
        ([*RANGE, "--sample", "0"], "--sample"),
        ([*RANGE, "--strategy", "loud"], "'loud' is not one of"),
    ],
)
def test_bad_arguments_get_clear_errors(arguments: list[str], message: str, tmp_path: Path) -> None:
    out = tmp_path / "never.jsonl"
    result = run(*arguments, "--out", str(out))

    assert result.exit_code == EXIT_USAGE
    assert message in " ".join(result.stderr.split())
    assert not out.exists()


def test_an_s3_output_without_a_key_is_refused(tmp_path: Path) -> None:
    result = run(*RANGE, "--out", "s3://only-a-bucket")
    assert result.exit_code == EXIT_USAGE
    assert "needs a bucket and a key" in " ".join(result.stderr.split())


def test_a_bad_setting_is_a_usage_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CHATBOT_REDACTION_PATTERNS", '{"ID": "("}')
    result = run(*RANGE, "--out", str(tmp_path / "x.jsonl"))
    assert result.exit_code == EXIT_USAGE
    assert "CHATBOT_REDACTION_PATTERNS" in result.stderr


def test_an_unreachable_store_fails_the_export(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CHATBOT_AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    out = tmp_path / "never.jsonl"

    result = run(*RANGE, "--no-progress", "--out", str(out))

    assert result.exit_code == EXIT_FAILED
    assert "error: could not read transcripts" in result.stderr
    assert not out.exists()


def test_the_local_store_exports_too(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from chatbot.config import load_settings
    from chatbot.conversation.store import make_transcript_store

    monkeypatch.setenv("CHATBOT_TRANSCRIPT_STORE", "local")
    make_transcript_store(load_settings()).save(support_transcript(MAY_1))
    out = tmp_path / "local.jsonl"

    result = run(*RANGE, "--no-progress", "--out", str(out))

    assert result.exit_code == 0, result.output
    assert (
        json.loads(out.read_text(encoding="utf-8"))["turns"][0]["text"] == "My endpoint fails. I am [EMAIL]"
    )
