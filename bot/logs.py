"""Logging for the long-running bot: level and rotating file from the settings, and
network faults as one line each.

discord.py logs a lost connection with its traceback while it reconnects; for faults of
the network (a refused or dropped connection, a timeout, a gateway close) the line says
what happened and the traceback is left out. Everything else keeps its traceback.
"""

from __future__ import annotations

import asyncio
import logging
import logging.handlers
from pathlib import Path

_FORMAT = "%(asctime)s %(levelname)-8s %(name)s: %(message)s"
# Rotating log files, as Red-DiscordBot and RoboDanny keep them: 5 files of 5 MB.
_FILE_BYTES = 5 * 1024 * 1024
_FILE_COUNT = 5


def _network_fault(error: BaseException) -> bool:
    import aiohttp
    import discord

    return isinstance(
        error,
        OSError | asyncio.TimeoutError | aiohttp.ClientError | discord.ConnectionClosed | discord.GatewayNotFound,
    )


class OneLineNetworkFaults(logging.Filter):
    """Replaces a network fault's traceback with its one-line description."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None and _network_fault(record.exc_info[1]):
            error = record.exc_info[1]
            record.msg = f"{record.getMessage()} ({type(error).__name__}: {error})"
            record.args = None
            record.exc_info = None
            record.exc_text = None
        return True


def configure(level: str, file: Path | None) -> None:
    """Log at ``level`` to standard error and, when given, to rotating files at ``file``."""
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(
            logging.handlers.RotatingFileHandler(file, maxBytes=_FILE_BYTES, backupCount=_FILE_COUNT, encoding="utf-8")
        )
    root = logging.getLogger()
    root.setLevel(level)
    for handler in handlers:
        handler.setFormatter(logging.Formatter(_FORMAT))
        handler.addFilter(OneLineNetworkFaults())
        root.addHandler(handler)
