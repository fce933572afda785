"""Human-in-the-loop support chatbot for Amazon SageMaker questions."""

__version__ = "0.1.0"
