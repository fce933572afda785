"""Support-chat training examples composed by the team from phrase lists.

Why: the human-rated texts are product reviews and tweets, where "it failed" is a complaint. In a
support chat "my training job failed with ResourceLimitExceeded, how do I fix it?" is a calm technical
question. These examples teach the classifier that failure words and error names describe the
system, not the customer's mood, while frustration phrases stay negative even next to technical
content. They are added to the training part only; no figure is reported on them.
"""

from __future__ import annotations

import itertools
import random

from pydantic import BaseModel, ConfigDict

from chatbot.models import SentimentLabel

SUPPORT_DOMAIN_VERSION = "support-domain-v1"
_SEED = 20240611

_RESOURCES = [
    "my training job",
    "the endpoint",
    "our processing job",
    "the batch transform job",
    "the pipeline execution",
    "my notebook instance",
    "the tuning job",
    "the labeling job",
    "the model deployment",
    "my Studio space",
    "the AutoML job",
    "the compilation job",
    "the serverless endpoint",
    "the async inference endpoint",
    "the feature group ingestion",
]
_FAILURES = [
    "failed with {code}",
    "fails with {code}",
    "keeps failing with {code}",
    "returned {code}",
    "errored out with {code}",
    "crashed with {code}",
    "shows status Failed and the reason is {code}",
    "stopped with {code}",
    "was rejected with {code}",
    "is stuck in InProgress and the logs show {code}",
    "timed out and the log says {code}",
    "got killed, the last log line is {code}",
]
_CODES = [
    "ResourceLimitExceeded",
    "AccessDeniedException",
    "ValidationException",
    "ThrottlingException",
    "InternalServerError",
    "InsufficientCapacityError",
    "ModelError",
    "ClientError: 403 Forbidden",
    "an OutOfMemoryError",
    "'No space left on device'",
    "ResourceNotFound",
    "'ImportError: No module named sagemaker_containers'",
    "exit code 137",
    "a 500 error",
    "'CapacityError: Unable to provision requested ML compute capacity'",
    "'Missing required parameter'",
]
_CALM_ENDINGS = [
    "How do I fix it?",
    "What does this mean?",
    "What should I check first?",
    "Any idea why?",
    "How can I resolve this?",
    "Which permission is missing?",
    "What is the recommended fix?",
    "Where can I find more details?",
    "Is there a limit I need to raise?",
    "Could you point me to the relevant docs?",
    "",
]
_CALM_QUESTIONS = [
    "How do I debug a failed training job?",
    "What causes a ResourceLimitExceeded error?",
    "How can I request a service quota increase?",
    "What does 'error' status mean on a notebook instance?",
    "How do I stop a running endpoint to avoid charges?",
    "Why would an endpoint fail its health check?",
    "What happens when a spot training job is interrupted?",
    "How do I delete a model that is no longer used?",
    "What are common reasons for a processing job failure?",
    "How do I kill a stuck training job?",
    "Is there a way to retry failed pipeline steps automatically?",
    "What is the risk of turning off network isolation?",
    "Which errors are retried by the SDK?",
    "How do I block public internet access from Studio?",
    "What are the limits on payload size for real-time inference?",
    "How do I troubleshoot missing CloudWatch metrics?",
    "How do I fix permission denied when reading from S3?",
    "What happens to my data if the notebook instance crashes?",
    "Can I lower the instance count when traffic drops?",
    "Why is my model's accuracy worse after retraining?",
]
_FRUSTRATION = [
    "This is ridiculous.",
    "I'm so frustrated.",
    "I'm really fed up with this.",
    "This is infuriating.",
    "Unacceptable.",
    "I'm losing my patience.",
    "This is a nightmare.",
    "Honestly, this is terrible.",
    "I'm furious.",
    "What a waste of my time.",
    "This is driving me crazy.",
    "I'm sick and tired of this.",
    "Your help is useless.",
    "Are you serious?",
    "Awful experience so far.",
]
_FRUSTRATED_ENDINGS = [
    "Nobody has been able to help me.",
    "I've wasted the whole day on this.",
    "Your answers make no sense.",
    "We are paying for this and it just doesn't work.",
    "I've asked the same thing three times now.",
    "I'm about to give up on SageMaker.",
    "Fix it already.",
    "",
]
_THANKS = [
    "Thanks, that worked!",
    "Great, thank you!",
    "Perfect, much appreciated.",
    "Awesome, thanks for the help.",
    "Thank you, that solved it.",
    "Excellent, exactly what I needed.",
    "Brilliant, thanks a lot!",
    "That's really helpful, thank you.",
    "Wonderful, you saved me hours.",
    "Nice, I'm happy with this.",
]
_SUCCESSES = [
    "{resource} runs fine now.",
    "{resource} is working again.",
    "{resource} finished successfully.",
    "the {code} is gone.",
    "raising the quota fixed the {code}.",
    "the new IAM policy fixed {code}.",
    "",
]


class DomainExample(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str
    label: SentimentLabel


def _join(*sentences: str) -> str:
    return " ".join(" ".join(sentences).split())


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    return text[:1].upper() + text[1:]


def support_domain_examples(
    neutral: int = 260, negative: int = 200, positive: int = 120
) -> list[DomainExample]:
    """A deterministic sample of composed support messages, ``neutral`` + ``negative`` + ``positive``."""
    rng = random.Random(_SEED)  # noqa: S311 - a fixed sample, not a secret

    def failure_reports(count: int) -> list[str]:
        combos = list(itertools.product(_RESOURCES, _FAILURES, _CODES))
        return [f"{r} {f.format(code=c)}." for r, f, c in rng.sample(combos, count)]

    calm = [
        _sentence(f"{report} {ending}")
        for report, ending in zip(
            failure_reports(neutral - len(_CALM_QUESTIONS)),
            itertools.cycle(_CALM_ENDINGS),
            strict=False,
        )
    ] + _CALM_QUESTIONS
    angry = [
        _join(rng.choice(_FRUSTRATION), _sentence(report), rng.choice(_FRUSTRATED_ENDINGS))
        for report in failure_reports(negative)
    ]
    happy = [
        _join(
            rng.choice(_THANKS),
            _sentence(
                rng.choice(_SUCCESSES).format(resource=rng.choice(_RESOURCES), code=rng.choice(_CODES))
            ),
        )
        for _ in range(positive)
    ]
    return (
        [DomainExample(text=text, label=SentimentLabel.NEUTRAL) for text in calm]
        + [DomainExample(text=text, label=SentimentLabel.NEGATIVE) for text in angry]
        + [DomainExample(text=text, label=SentimentLabel.POSITIVE) for text in happy]
    )
