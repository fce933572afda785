"""Domain errors. Each names what went wrong in the words of the domain, never a bare KeyError."""


class ChatbotError(Exception):
    """Base class of every error this project raises on purpose."""


class ConfigError(ChatbotError):
    """A setting has a bad value; the message names the setting."""


class KnowledgeBaseError(ChatbotError):
    """The corpus or its index cannot be read, built or used."""


class IndexNotBuiltError(KnowledgeBaseError):
    """No index exists yet for the configured corpus."""


class StaleIndexError(KnowledgeBaseError):
    """The index on disk does not match the corpus, embedding model or chunking parameters."""


class InvalidMessageError(ChatbotError):
    """A customer message cannot be accepted (empty, too long, unreadable)."""


class ModelBackendError(ChatbotError):
    """A language, embedding or sentiment model failed or is missing."""


class TranscriptWriteError(ChatbotError):
    """A transcript could not be written to its store."""


class TranscriptNotFoundError(ChatbotError):
    """No transcript exists for the conversation id."""


class EscalationError(ChatbotError):
    """An escalation request could not be recorded or delivered."""


class InvalidInputFileError(ChatbotError):
    """A batch input file (JSONL) has a line that cannot be used; the message names the line."""


class InvalidLambdaEventError(ChatbotError):
    """A Lambda received an event that does not have the documented shape; the message says what is wrong."""


class ManifestLineError(InvalidInputFileError):
    """A labeling manifest line cannot be used; names the file and the line number (1-based)."""

    def __init__(self, path: str, line_number: int, reason: str) -> None:
        super().__init__(f"{path}:{line_number}: {reason}")
        self.path = path
        self.line_number = line_number
        self.reason = reason


class MalformedAnnotationError(ChatbotError):
    """One worker's annotation cannot be read as a 1-5 rating; the other annotations are kept."""


class LabelingJobError(ChatbotError):
    """A labeling job could not be prepared or started."""


class AnnotationStoreError(ChatbotError):
    """The local labeling page's annotation store refused or failed a write."""


class TranscriptStoreUnavailableError(TranscriptWriteError):
    """The transcript store cannot be reached or refused the request; turns wait in the local spool."""


class InvalidTranscriptError(ChatbotError):
    """A stored transcript cannot be used (not JSON, unknown schema version, too large); names the object."""


class WorkflowStartError(EscalationError):
    """Step Functions refused to start the escalation workflow (unknown state machine, no permission)."""


class WorkflowUnavailableError(WorkflowStartError):
    """Step Functions was unreachable, timed out or throttled: the same request may succeed later."""


class MailError(ChatbotError):
    """Expert email could not be composed, sent or read."""


class MailDeliveryError(MailError):
    """The SMTP server could not be reached or refused the message; names the server."""


class MailNotFoundError(MailError):
    """The local mailbox has no message with that id."""


class TranscriptExportError(ChatbotError):
    """An export could not read its transcripts or write its output; names the location."""
