"""A chat-style question-answering bot over news articles, quoting its sources."""

__version__ = "0.1.0"
