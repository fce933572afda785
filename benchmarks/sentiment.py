"""Sentiment: the local classifier against VADER, on the held-out human-rated test part and on support chats.

Prints, side by side for the classifier and VADER (standard thresholds: compound >= 0.05 positive,
<= -0.05 negative):

* the split sizes, and accuracy / macro-F1 / negative precision / negative recall on the test part
  of ``vendor/sentiment-human-rated`` (never used for any choice);
* the same on ``benchmarks/data/support_messages.jsonl`` (written by the team: SageMaker customer
  messages, labelled by hand; part ``check`` is reported only, part ``dev`` guided design choices),
  with escalation rates at the configured threshold: how often a calm technical question would be
  escalated (false escalations), and how often a frustrated message would be;
* how long judging one message takes, and how long training took.

``--ablation`` also trains, in memory, the classifier without the support-domain examples and with
standard VADER features, to show what each choice buys (one extra embedding pass over the data).

Run: ``.venv/bin/python benchmarks/sentiment.py`` (trains the model first if there is none).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from chatbot.config import Settings, load_settings
from chatbot.logging import configure_logging
from chatbot.rag.embedder import Embedder
from chatbot.rag.embeddings import make_embedder
from chatbot.sentiment.dataset import RatedText, SplitPart, assign_split, load_rated_texts, select
from chatbot.sentiment.features import standard_vader_labels
from chatbot.sentiment.local_judge import LocalSentimentJudge
from chatbot.sentiment.metrics import ClassificationMetrics, measure
from chatbot.sentiment.store import load_or_train, read_manifest, sentiment_dir, staleness
from chatbot.sentiment.support_domain import support_domain_examples
from chatbot.sentiment.training import C_GRID, fit_linear_model, predicted_labels

SUPPORT_MESSAGES = Path(__file__).parent / "data" / "support_messages.jsonl"

SupportRow = dict[str, Any]


@dataclass(frozen=True)
class RatedData:
    """The human-rated texts and the part (train/dev/test) of each, read once per run."""

    texts: list[RatedText]
    parts: dict[str, SplitPart]


def load_rated_data(settings: Settings) -> RatedData:
    rated_texts = load_rated_texts(settings.sentiment_training_data)
    return RatedData(rated_texts, assign_split(rated_texts))


def load_support_messages() -> list[SupportRow]:
    return [json.loads(line) for line in SUPPORT_MESSAGES.read_text(encoding="utf-8").splitlines() if line]


def _header() -> None:
    print(f"  {'':<34} {'n':>5}  {'accuracy':>8}  {'macro-F1':>8}  {'neg P':>6}  {'neg R':>6}")


def _row(name: str, figures: ClassificationMetrics) -> None:
    print(
        f"  {name:<34} {figures.count:>5}  {figures.accuracy:>8.3f}  {figures.macro_f1:>8.3f}  "
        f"{figures.negative_precision:>6.3f}  {figures.negative_recall:>6.3f}"
    )


def _trigger_row(name: str, true: list[str], escalated: list[bool]) -> None:
    """Negative precision and recall when 'negative' means 'escalated on sentiment' (other columns n/a)."""
    figures = measure(true, ["negative" if flag else "not-negative" for flag in escalated])
    print(
        f"  {name:<34} {figures.count:>5}  {'-':>8}  {'-':>8}  "
        f"{figures.negative_precision:>6.3f}  {figures.negative_recall:>6.3f}"
    )


def human_rated(settings: Settings, judge: LocalSentimentJudge, rated_data: RatedData) -> None:
    rated_texts, parts = rated_data.texts, rated_data.parts
    sizes = {part.value: sum(1 for p in parts.values() if p is part) for part in SplitPart}
    print(f"human-rated texts: {len(rated_texts)}; split {sizes} (grouped, stratified by label x source)")
    test = select(rated_texts, parts, SplitPart.TEST)
    texts, true = [r.text for r in test], [r.label.value for r in test]
    sentiments = judge.judge_first_messages(texts)
    ours = [sentiment.label.value for sentiment in sentiments]
    negative = np.array([sentiment.negative for sentiment in sentiments])
    vader = standard_vader_labels(texts)
    print("held-out TEST part (reported only; each text judged alone, as in a chat):")
    _header()
    _row("classifier (argmax)", measure(true, ours))
    _row("VADER (standard thresholds)", measure(true, vader))
    threshold = settings.negative_sentiment_threshold
    print(f"  as an escalation trigger: negative = P(negative) >= {threshold} / VADER compound <= -0.05")
    _trigger_row(f"classifier P(neg) >= {threshold}", true, list(negative >= threshold))
    _trigger_row("VADER negative", true, [label == "negative" for label in vader])
    by_source: dict[str, list[int]] = {}
    for index, rated in enumerate(test):
        by_source.setdefault(rated.source_kind, []).append(index)
    for source, indexes in sorted(by_source.items()):
        _row(f"classifier, {source} only", measure([true[i] for i in indexes], [ours[i] for i in indexes]))
        _row(f"VADER, {source} only", measure([true[i] for i in indexes], [vader[i] for i in indexes]))


def support_set(
    settings: Settings, judge: LocalSentimentJudge, support_rows: list[SupportRow], part: str
) -> None:
    rows = [row for row in support_rows if row["part"] == part]
    texts, true = [row["text"] for row in rows], [row["label"] for row in rows]
    sentiments = judge.judge_first_messages(texts)
    ours = [sentiment.label.value for sentiment in sentiments]
    negative = np.array([sentiment.negative for sentiment in sentiments])
    vader = standard_vader_labels(texts)
    threshold = settings.negative_sentiment_threshold
    print(f"support messages, part {part!r} ({len(rows)}, written and labelled by the team):")
    _header()
    _row("classifier (argmax)", measure(true, ours))
    _row("VADER (standard thresholds)", measure(true, vader))
    print(f"  escalated on sentiment (classifier: P(negative) >= {threshold}; VADER: label negative):")
    for kind in ("technical_question", "frustrated", "happy"):
        indexes = [i for i, row in enumerate(rows) if row["kind"] == kind]
        ours_rate = sum(bool(negative[i] >= threshold) for i in indexes) / len(indexes)
        vader_rate = sum(vader[i] == "negative" for i in indexes) / len(indexes)
        note = "  <- false escalations" if kind == "technical_question" else ""
        print(
            f"    {kind:<20} n={len(indexes):>3}  classifier {ours_rate:6.1%}   VADER {vader_rate:6.1%}{note}"
        )
    missed = [
        f"    {row['label'][:3]} -> P(neg) {negative[i]:.2f}, {ours[i][:3]}: {row['text'][:80]}"
        for i, row in enumerate(rows)
        if (negative[i] >= threshold) != (row["label"] == "negative")
    ]
    print(f"  classifier escalation mistakes ({len(missed)}):", *missed, sep="\n")


def threshold_sweep(
    settings: Settings, judge: LocalSentimentJudge, rated_data: RatedData, support_rows: list[SupportRow]
) -> None:
    """The escalation threshold on P(negative), read on the dev parts only (human-rated dev, support dev)."""
    dev = select(rated_data.texts, rated_data.parts, SplitPart.DEV)
    dev_negative = np.array([s.negative for s in judge.judge_first_messages([r.text for r in dev])])
    dev_true = np.array([r.label.value == "negative" for r in dev])
    rows = [row for row in support_rows if row["part"] == "dev"]
    support_negative = np.array(
        [s.negative for s in judge.judge_first_messages([row["text"] for row in rows])]
    )
    calm = np.array([row["kind"] == "technical_question" for row in rows])
    angry = np.array([row["kind"] == "frustrated" for row in rows])
    print("escalation threshold on P(negative), dev parts only:")
    print(
        f"  {'threshold':>9}  {'human dev neg P':>15}  {'neg R':>6}  "
        f"{'support dev: calm escalated':>27}  {'angry':>6}"
    )
    for threshold in (0.4, 0.5, 0.6, 0.7, 0.8):
        flagged = dev_negative >= threshold
        precision = (flagged & dev_true).sum() / max(1, flagged.sum())
        recall = (flagged & dev_true).sum() / dev_true.sum()
        marker = "  <- configured" if threshold == settings.negative_sentiment_threshold else ""
        calm_rate = (support_negative[calm] >= threshold).mean()
        angry_rate = (support_negative[angry] >= threshold).mean()
        print(
            f"  {threshold:>9.1f}  {precision:>15.3f}  {recall:>6.3f}  "
            f"{calm_rate:>27.1%}  {angry_rate:>6.1%}{marker}"
        )


def latency(judge: LocalSentimentJudge, embedder: Embedder, rows: list[SupportRow]) -> None:
    texts = [f"{row['text']} (take {take})" for take in range(3) for row in rows]  # fresh, uncached texts
    embed_ms, judge_ms = [], []
    for index, text in enumerate(texts):
        started = time.perf_counter()
        embedder.embed_documents([text + " "])
        embed_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        judge.judge(text, texts[max(0, index - 3) : index])
        judge_ms.append((time.perf_counter() - started) * 1000)
    print(
        f"judge latency over {len(texts)} messages with up to 3 earlier ones (earlier ones remembered): "
        f"median {statistics.median(judge_ms):.1f} ms, p95 {np.percentile(judge_ms, 95):.1f} ms; "
        f"one embedding alone: median {statistics.median(embed_ms):.1f} ms "
        "(other jobs may share the CPU)"
    )


def ablation(
    settings: Settings, embedder: Embedder, rated_data: RatedData, support_rows: list[SupportRow]
) -> None:
    """The recipe's two support-domain choices, each taken away, measured on dev/test and on support dev."""
    from chatbot.sentiment.features import SupportVader

    rated_texts, parts = rated_data.texts, rated_data.parts
    domain = support_domain_examples()
    texts = [r.text for r in rated_texts] + [d.text for d in domain] + [row["text"] for row in support_rows]
    vectors = embedder.embed_documents(texts).astype(np.float64)
    standard = SentimentIntensityAnalyzer()
    standard_scores = np.array(
        [[s["neg"], s["neu"], s["pos"], s["compound"]] for s in map(standard.polarity_scores, texts)]
    )
    support_scores = SupportVader().scores(texts)
    labels = np.array([r.label.value for r in rated_texts] + [d.label.value for d in domain])
    n_rated, n_domain = len(rated_texts), len(domain)
    part_of = np.array([parts[r.id].value for r in rated_texts])
    train = np.concatenate([part_of == "train", np.ones(n_domain, dtype=bool)])
    train_only_rated = np.concatenate([part_of == "train", np.zeros(n_domain, dtype=bool)])
    dev, test = part_of == "dev", part_of == "test"
    support_true = [row["label"] for row in support_rows]
    print("ablation (each fitted on the train part, C chosen on dev; test and support sets for information):")
    print(
        f"  {'variant':<44} {'dev mF1':>7} {'test acc':>8} {'test mF1':>8} "
        f"{'support: calm>=thr':>18} {'angry>=thr':>10}"
    )
    for name, scores, rows in (
        ("shipped: support VADER + support examples", support_scores, train),
        ("standard VADER + support examples", standard_scores, train),
        ("support VADER, no support examples", support_scores, train_only_rated),
        ("standard VADER, no support examples", standard_scores, train_only_rated),
    ):
        features = np.hstack([vectors, scores])
        rated, support = features[:n_rated], features[n_rated + n_domain :]
        fits = {c: fit_linear_model(features[: n_rated + n_domain][rows], labels[rows], c) for c in C_GRID}
        dev_f1 = {
            c: measure(list(labels[:n_rated][dev]), predicted_labels(m, rated[dev])).macro_f1
            for c, m in fits.items()
        }
        best = fits[max(C_GRID, key=lambda c: dev_f1[c])]
        test_figures = measure(list(labels[:n_rated][test]), predicted_labels(best, rated[test]))
        support_negative = best.probabilities(support)[:, 0] >= settings.negative_sentiment_threshold
        calm = [flag for flag, true in zip(support_negative, support_true, strict=True) if true == "neutral"]
        angry = [
            flag for flag, true in zip(support_negative, support_true, strict=True) if true == "negative"
        ]
        print(
            f"  {name:<44} {max(dev_f1.values()):>7.3f} {test_figures.accuracy:>8.3f} "
            f"{test_figures.macro_f1:>8.3f} "
            f"{sum(calm) / len(calm):>18.1%} {sum(angry) / len(angry):>10.1%}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--ablation", action="store_true", help="also measure the recipe without its domain choices"
    )
    arguments = parser.parse_args()
    settings = load_settings()
    configure_logging("WARNING", "console")
    embedder = make_embedder(settings)
    needs_training = staleness(
        read_manifest(sentiment_dir(settings)), embedder, settings.sentiment_training_data
    )
    trained = load_or_train(settings, embedder)
    manifest = trained.manifest
    print(f"embedder: {manifest.embedder_model_id}")
    print(
        f"classifier: logistic regression (C={manifest.regularisation_c}) on embedding + support VADER; "
        f"trained in {manifest.training_seconds:.1f} s at {manifest.trained_at:%Y-%m-%d %H:%M} UTC"
        + (f" (this run: {needs_training})" if needs_training else "")
    )
    judge = LocalSentimentJudge(trained.model, embedder)
    rated_data = load_rated_data(settings)
    support_rows = load_support_messages()
    print()
    human_rated(settings, judge, rated_data)
    for part in ("check", "dev"):
        print()
        support_set(settings, judge, support_rows, part)
    print()
    threshold_sweep(settings, judge, rated_data, support_rows)
    print()
    latency(LocalSentimentJudge(trained.model, embedder), embedder, support_rows)
    if arguments.ablation:
        print()
        ablation(settings, embedder, rated_data, support_rows)


if __name__ == "__main__":
    main()
