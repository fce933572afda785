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
