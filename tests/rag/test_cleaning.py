from __future__ import annotations

from chatbot.rag.cleaning import clean_markdown, html_to_markdown
from tests.rag.conftest import FIXTURE_CORPUS


def test_backslash_escapes_are_removed_outside_code_and_kept_inside() -> None:
    markdown = (
        "# Title\n\nA production\\-ready service\\. Use it \\(optionally\\) with `x\\_y`\\!\n\n"
        "```\nsed -n 's/^a\\.b$/\\1/p' file\n```\n"
    )
    cleaned = clean_markdown(markdown)
    assert "A production-ready service. Use it (optionally) with `x_y`!" in cleaned
    assert "sed -n 's/^a\\.b$/\\1/p' file" in cleaned  # code keeps its real backslashes


def test_anchors_links_images_and_tab_markers_are_removed() -> None:
    markdown = (
        '# What Is It?<a name="whatis"></a>\n\n'
        "See [the pricing page](http://aws.amazon.com/sagemaker/pricing/)\\.\n\n"
        "![\\[Image NOT FOUND\\]](http://docs.aws.amazon.com/a.png)\n\n"
        '------\n#### [ Console ]<a name="c"></a>\n\nUse the console\\.\n\n------\n'
    )
    cleaned = clean_markdown(markdown)
    assert "<a name" not in cleaned
    assert "# What Is It?" in cleaned
    assert "See the pricing page." in cleaned
    assert "http" not in cleaned
    assert "Image NOT FOUND" not in cleaned
    assert "------" not in cleaned
    assert "#### Console" in cleaned


def test_topics_link_lists_are_dropped_but_other_lists_stay() -> None:
    markdown = (
        "# Hub\n\nIntro text\\.\n\n**Topics**\n+ [Prerequisites](a.md)\n+ [Create a thing](b.md)\n\n"
        "Steps:\n+ Open the console\\.\n+ Choose **Create**\\.\n"
    )
    cleaned = clean_markdown(markdown)
    assert "Topics" not in cleaned
    assert "Prerequisites" not in cleaned
    assert "+ Open the console." in cleaned
    assert "+ Choose Create." in cleaned


def test_real_document_is_clean() -> None:
    cleaned = clean_markdown((FIXTURE_CORPUS / "whatis.md").read_text(encoding="utf-8"))
    prose = "\n".join(line for line in cleaned.splitlines() if not line.startswith("```"))
    assert "\\." not in prose
    assert "\\-" not in prose
    assert "\\(" not in prose
    assert "<a name=" not in prose
    assert "production-ready hosted environment" in cleaned


def test_html_becomes_markdown_with_title_headings_and_code() -> None:
    page = """<html><head><title>Deploy &amp; Scale</title><style>p {color: red}</style></head>
    <body><nav>Home | Docs</nav><h1>Deploying models</h1><p>Use an <b>endpoint</b> to serve.</p>
    <h2>Scaling</h2><ul><li>Add a policy</li><li>Watch metrics</li></ul>
    <pre>aws sagemaker create-endpoint \\
  --endpoint-name demo</pre><script>alert(1)</script></body></html>"""
    title, markdown = html_to_markdown(page)
    assert title == "Deploy & Scale"
    assert "# Deploying models" in markdown
    assert "## Scaling" in markdown
    assert "Use an endpoint to serve." in markdown
    assert "- Add a policy" in markdown
    assert "```\naws sagemaker create-endpoint \\\n  --endpoint-name demo\n```" in markdown
    assert "alert" not in markdown
    assert "color: red" not in markdown
    assert "Home | Docs" not in markdown
