"""Interactive logging: progress bars and summaries go to stdout (the default) or, switched
off for jobs on a server, to the standard `logging` module (logger 'lamina', level INFO),
as Keras sends them to absl logging. The switch is a global setting, kept in `lamina.config`
with the others; `print_msg` is what writers call.

>>> disable_interactive_logging()
>>> is_interactive_logging_enabled()
False
>>> enable_interactive_logging()
"""

from __future__ import annotations

import logging
import sys

from ..config import (
    disable_interactive_logging,
    enable_interactive_logging,
    is_interactive_logging_enabled,
)

__all__ = [
    "disable_interactive_logging",
    "enable_interactive_logging",
    "is_interactive_logging_enabled",
    "print_msg",
]

logger = logging.getLogger("lamina")


def print_msg(message: str, line_break: bool = True) -> None:
    """Write `message` where logs go: stdout (with a newline unless `line_break=False`) when
    interactive logging is on, else `logging.getLogger('lamina').info(message)`.

    >>> print_msg("epoch 1/2")
    epoch 1/2
    """
    message = str(message)
    if not is_interactive_logging_enabled():
        logger.info(message)
        return
    if line_break:
        message += "\n"
    try:
        sys.stdout.write(message)
    except UnicodeEncodeError:
        # A console without UTF-8: drop what it cannot show (the bar's '━' becomes '=').
        encoding = sys.stdout.encoding or "utf-8"
        message = message.replace("━", "=").encode(encoding, errors="ignore").decode(encoding)
        sys.stdout.write(message)
    sys.stdout.flush()
