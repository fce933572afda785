from __future__ import annotations

import json

from tests.labeling.samples import input_line, sample_items
from workflows.labeling.input_manifest import parse_input_manifest
from workflows.labeling.manifest import METADATA_KEY


def test_good_lines_are_kept_in_order_with_their_raw_json() -> None:
    items = sample_items()
    text = "".join(json.dumps(input_line(item)) + "\n" for item in items) + "\n"
    manifest = parse_input_manifest(text, "in.manifest")
    assert manifest.errors == []
    assert manifest.items == items
    assert manifest.entries[2].raw == input_line(items[2])
    assert [entry.line_number for entry in manifest.entries] == [1, 2, 3, 4]


def test_source_ref_lines_are_accepted() -> None:
    line = {
        "source-ref": "s3://b/manifests/items/x.json",
        METADATA_KEY: sample_items()[0].model_dump(mode="json"),
    }
    manifest = parse_input_manifest(json.dumps(line), "in.manifest")
    assert manifest.errors == []
    assert manifest.entries[0].line.source_ref == "s3://b/manifests/items/x.json"


def test_bad_lines_are_reported_by_number_and_the_rest_kept() -> None:
    first, second = sample_items()[:2]
    both = input_line(first) | {"source-ref": "s3://b/k"}
    no_question = input_line(second)
    del no_question[METADATA_KEY]["question"]
    lines = [
        json.dumps(input_line(first)),
        "{not json",
        json.dumps(both),
        json.dumps({"source": "text only"}),
        json.dumps(no_question),
        json.dumps(input_line(first)),
        json.dumps(input_line(second)),
    ]
    manifest = parse_input_manifest("\n".join(lines), "in.manifest")
    assert [entry.item.item_id for entry in manifest.entries] == [first.item_id, second.item_id]
    assert [error.line_number for error in manifest.errors] == [2, 3, 4, 5, 6]
    messages = [str(error) for error in manifest.errors]
    assert messages[0].startswith("in.manifest:2: not valid JSON")
    assert "exactly one of `source` and `source-ref`" in messages[1]
    assert "chatbot-metadata: Field required" in messages[2]
    assert "chatbot-metadata.question: Field required" in messages[3]
    assert "already on line 1" in messages[4]


def test_a_line_separator_inside_a_string_does_not_split_the_line() -> None:
    item = sample_items()[0].model_copy(update={"answer": "first\u2028second"})
    manifest = parse_input_manifest(json.dumps(input_line(item), ensure_ascii=False), "in.manifest")
    assert manifest.errors == [] and manifest.items[0].answer == "first\u2028second"
