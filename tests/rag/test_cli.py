"""``chatbot index build|info`` and ``chatbot retrieve`` end to end, with the real local MiniLM."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chatbot.cli import app
from tests.rag.conftest import FIXTURE_CORPUS, isolated_settings, share_exported_model

pytestmark = pytest.mark.models


@dataclass(frozen=True)
class Workspace:
    data_dir: Path
    corpus_dir: Path


def _workspace(root: Path, exported: Path) -> Workspace:
    corpus = root / "corpus"
    shutil.copytree(FIXTURE_CORPUS, corpus)
    workspace = Workspace(data_dir=root / "data", corpus_dir=corpus)
    share_exported_model(isolated_settings(root, data_dir=workspace.data_dir), exported)
    return workspace


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, exported_minilm: Path) -> Iterator[Workspace]:
    """A workspace whose index was built once through the CLI, shared by the read-only tests."""
    root = tmp_path_factory.mktemp("cli")
    workspace = _workspace(root, exported_minilm)
    with pytest.MonkeyPatch.context() as patch:  # module scope: the per-test isolation has not run yet
        for name in [name for name in os.environ if name.startswith("CHATBOT_")]:
            patch.delenv(name)
        patch.chdir(root)
        patch.setenv("CHATBOT_DATA_DIR", str(workspace.data_dir))
        result = CliRunner().invoke(app, ["index", "build", "--corpus", str(workspace.corpus_dir)])
    assert result.exit_code == 0, result.output
    yield workspace


Use = Callable[[Workspace], None]


@pytest.fixture
def use(monkeypatch: pytest.MonkeyPatch) -> Use:
    """Point the CLI (through the environment) at a workspace's state directory and corpus."""

    def _use(workspace: Workspace) -> None:
        monkeypatch.setenv("CHATBOT_DATA_DIR", str(workspace.data_dir))
        monkeypatch.setenv("CHATBOT_CORPUS_DIR", str(workspace.corpus_dir))

    return _use


def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_build_reports_what_it_did(
    tmp_path: Path, exported_minilm: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = _workspace(tmp_path, exported_minilm)
    monkeypatch.setenv("CHATBOT_DATA_DIR", str(workspace.data_dir))
    code, out, err = run("index", "build", "--corpus", str(workspace.corpus_dir))
    assert code == 0, err
    assert "16 documents" in out
    assert "embedded" in out
    assert "embedding chunks" in err  # the tqdm progress bar

    code, out, _ = run("index", "build", "--corpus", str(workspace.corpus_dir), "--no-progress")
    assert code == 0
    assert "0 texts embedded" in out


def test_info_prints_the_manifest_and_says_current(built: Workspace, use: Use) -> None:
    use(built)
    code, out, _ = run("index", "info")
    assert code == 0
    assert "current: yes" in out
    assert "documents: 16" in out
    assert "embedding model: sentence-transformers/all-MiniLM-L6-v2@onnx-int8" in out
    assert "corpus fingerprint:" in out
    assert "chunking: max 1200 chars, overlap 150 chars" in out


def test_info_without_an_index_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATBOT_CORPUS_DIR", str(FIXTURE_CORPUS))
    code, out, _ = run("index", "info")
    assert code == 1
    assert "current: no (not built" in out


def test_stale_index_is_reported_then_rebuilt_by_if_missing(
    tmp_path: Path, exported_minilm: Path, use: Use
) -> None:
    workspace = _workspace(tmp_path, exported_minilm)
    use(workspace)
    code, out, _ = run("index", "build", "--if-missing", "--no-progress")
    assert code == 0
    assert "index is current" in out

    page = workspace.corpus_dir / "canvas.md"
    page.write_text(page.read_text() + "\nCanvas now supports more data sources.\n")
    code, out, _ = run("index", "info")
    assert code == 0
    assert "current: no (corpus changed: 1 edited (canvas.md))" in out

    code, out, err = run("index", "build", "--if-missing", "--no-progress")
    assert code == 0
    assert "index.stale" in err
    assert "canvas.md" in err
    assert "index is current" in out
    code, out, _ = run("index", "info")
    assert "current: yes" in out


def test_an_unusable_corpus_option_is_an_error(tmp_path: Path) -> None:
    code, _, err = run("index", "build", "--corpus", str(tmp_path))
    assert code == 1
    assert "holds no documents" in err


def _questions(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_retrieve_prints_one_json_line_per_question(built: Workspace, use: Use, tmp_path: Path) -> None:
    use(built)
    questions = _questions(
        tmp_path / "q.jsonl",
        [
            json.dumps({"id": "a", "question": "What is Amazon SageMaker?"}),
            json.dumps({"id": 7, "question": "How do I use spot instances for training?", "note": "ignored"}),
        ],
    )
    code, out, err = run("retrieve", "--k", "3", "--input", str(questions))
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["id"] for line in lines] == ["a", 7]
    for line in lines:
        assert set(line) == {"id", "sources"}
        assert len(line["sources"]) == 3
        assert len({source["doc"] for source in line["sources"]}) == 3
        for source in line["sources"]:
            assert set(source) == {"doc", "title", "score"}
            assert source["doc"].endswith(".md")
            assert "/" not in source["doc"]
        scores = [source["score"] for source in line["sources"]]
        assert scores == sorted(scores, reverse=True)
    assert lines[0]["sources"][0]["doc"] == "whatis.md"


def test_bad_lines_are_named_on_stderr_and_the_others_still_answered(
    built: Workspace, use: Use, tmp_path: Path
) -> None:
    use(built)
    questions = _questions(
        tmp_path / "q.jsonl",
        [
            json.dumps({"id": "ok-1", "question": "How do I delete an endpoint?"}),
            "{not json",
            json.dumps({"id": "no-question"}),
            json.dumps({"id": "blank", "question": "   "}),
            "",
            json.dumps(["a", "list"]),
            json.dumps({"id": "ok-2", "question": "Which hyperparameters does XGBoost take?"}),
        ],
    )
    code, out, err = run("retrieve", "--k", "2", "--input", str(questions))
    assert code == 1
    assert [json.loads(line)["id"] for line in out.splitlines()] == ["ok-1", "ok-2"]
    assert "line 2: not valid JSON" in err
    assert "line 3: missing field 'question'" in err
    assert "line 4: empty question" in err
    assert "line 6: expected a JSON object" in err
    assert "line 5" not in err  # a blank line is not a question


def test_retrieve_reads_standard_input(built: Workspace, use: Use) -> None:
    use(built)
    stdin = json.dumps({"id": "s", "question": "Can a pipeline skip steps that already ran?"}) + "\n"
    code, out, err = run("retrieve", "--k", "1", "--input", "-", stdin=stdin)
    assert code == 0, err
    (line,) = [json.loads(text) for text in out.splitlines()]
    assert line["id"] == "s"
    assert len(line["sources"]) == 1


def test_retrieve_with_a_missing_input_file_fails_clearly(built: Workspace, use: Use, tmp_path: Path) -> None:
    use(built)
    code, out, err = run("retrieve", "--input", str(tmp_path / "absent.jsonl"))
    assert code == 2
    assert out == ""
    assert "cannot read" in err


def test_retrieve_builds_a_missing_index_of_the_given_corpus(
    tmp_path: Path, exported_minilm: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = _workspace(tmp_path, exported_minilm)
    monkeypatch.setenv("CHATBOT_DATA_DIR", str(workspace.data_dir))
    stdin = json.dumps({"id": 1, "question": "How is SageMaker priced?"}) + "\n"
    code, out, err = run("retrieve", "--corpus", str(workspace.corpus_dir), "--input", "-", stdin=stdin)
    assert code == 0, err
    assert "index.missing" in err
    assert json.loads(out)["id"] == 1
    assert (workspace.data_dir / "index" / "manifest.json").exists()
