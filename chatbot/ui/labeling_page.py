"""Local labeling page: experts rate bot answers 1-5 without Ground Truth.

Run with ``streamlit run chatbot/ui/labeling_page.py``. The manifest comes from
``CHATBOT_LABELING_LOCAL_MANIFEST`` or is typed on the page; the logic lives in
``workflows/labeling/local_labeling.py``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import streamlit as st

from chatbot.config import Settings
from chatbot.errors import AnnotationStoreError
from chatbot.ui import page_support
from workflows.labeling.gt_task import QUESTION_TEXT, RATING_SCALE
from workflows.labeling.local_labeling import (
    LocalLabeling,
    annotation_store_path,
    default_export_path,
    load_local_labeling,
    local_job_name,
)
from workflows.labeling.manifest import LabelingItem

LEVELS = {level.rating: level for level in RATING_SCALE}


@st.cache_resource
def _labeling(manifest_path: str, modified_ns: int, store_path: str, per_item: int) -> LocalLabeling:
    """One per manifest file version (``modified_ns`` in the key reloads an edited manifest) and store."""
    return load_local_labeling(Path(manifest_path), Path(store_path), per_item)


def _submit(labeling: LocalLabeling, annotator: str, item_id: str) -> None:
    rating = st.session_state.get("rating")
    if rating is None:
        page_support.keep_notice("warning", "Choose a rating first.")
        return
    try:
        labeling.rate(annotator, item_id, int(rating), st.session_state.get("comment", ""))
    except AnnotationStoreError as error:
        page_support.keep_notice("error", str(error))
        return
    page_support.keep_notice("success", f"Saved: {LEVELS[int(rating)].label}.")
    st.session_state["rating"] = None
    st.session_state["comment"] = ""


def _export(labeling: LocalLabeling, manifest_path: Path, settings: Settings) -> None:
    target = default_export_path(settings, manifest_path, datetime.now(UTC))
    summary = labeling.export(target, local_job_name(manifest_path), settings.labeling_label_attribute)
    page_support.keep_notice(
        "success", f"Exported {summary.labeled} labeled of {summary.lines} items to {summary.path}"
    )


def _show_item(item: LabelingItem) -> None:
    st.subheader("Customer question")
    with st.container(border=True):
        st.markdown(item.question)
    st.subheader("Bot answer")
    with st.container(border=True):
        st.markdown(item.answer)
    st.subheader("Cited sources")
    if not item.sources:
        st.caption("The answer cites no sources.")
    for source in item.sources:
        with st.expander(f"{source.title or source.doc} ({source.doc})"):
            st.text(source.snippet or "(no excerpt)")
    st.caption(f"Item {item.item_id}")


def main() -> None:
    st.set_page_config(page_title="Rate bot answers", layout="wide")
    st.title("Rate bot answers")
    settings = page_support.settings()
    default_manifest = str(settings.labeling_local_manifest or "")
    manifest_text = st.text_input("Input manifest", value=default_manifest, key="manifest_path").strip()
    annotator = st.text_input("Your name", key="annotator").strip()
    if not manifest_text:
        st.info(
            "Enter the path of an input manifest (from `chatbot transcripts export --format gt-manifest`)."
        )
        return
    manifest_path = Path(manifest_text)
    if not manifest_path.is_file():
        st.error(f"No manifest at {manifest_path}")
        return
    labeling = _labeling(
        str(manifest_path.resolve()),
        manifest_path.stat().st_mtime_ns,
        str(annotation_store_path(settings)),
        settings.labeling_workers_per_item,
    )
    if labeling.manifest.errors:
        with st.expander(f"{len(labeling.manifest.errors)} manifest lines skipped"):
            for problem in labeling.manifest.errors:
                st.text(str(problem))
    if not annotator:
        st.info("Enter your name to start rating.")
        return

    page_support.show_notice()
    progress = labeling.progress(annotator)
    mine, overall = st.columns(2)
    mine.metric("Your ratings", f"{progress.annotator_done} / {progress.annotator_total}")
    overall.metric(
        f"Items with {labeling.annotations_per_item} ratings",
        f"{progress.items_complete} / {progress.items_total}",
    )
    st.progress(progress.annotations_given / max(progress.annotations_wanted, 1))

    item = progress.next_item
    if item is None:
        st.success("Nothing left for you to rate. Thank you!")
    else:
        _show_item(item)
        st.subheader(QUESTION_TEXT)
        st.radio(
            "Rating",
            options=list(LEVELS),
            format_func=lambda rating: LEVELS[rating].label,
            index=None,
            key="rating",
            horizontal=True,
        )
        with st.expander("What the ratings mean"):
            for level in RATING_SCALE:
                st.markdown(f"**{level.label}**: {level.meaning} _Example: {level.example}_")
        st.text_area("Comment (optional): what is wrong, missing or especially good?", key="comment")
        st.button(
            "Save rating and show the next answer",
            key="submit",
            type="primary",
            on_click=_submit,
            args=(labeling, annotator, item.item_id),
        )

    st.divider()
    st.button(
        "Export output manifest", key="export", on_click=_export, args=(labeling, manifest_path, settings)
    )


main()
