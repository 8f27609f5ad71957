"""RemoteMonitor: POST each epoch's logs to an HTTP server (with the standard library's
urllib, so no `requests` dependency).

>>> from lamina.callbacks.remote import RemoteMonitor
>>> monitor = RemoteMonitor(root="http://localhost:9000", send_as_json=True)
>>> monitor.root + monitor.path
'http://localhost:9000/publish/epoch/end/'
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
import warnings
from typing import Any

import numpy as np
import torch

from .callback import Callback

__all__ = ["RemoteMonitor"]

# Keras (through `requests`) waits without limit; a monitor that stopped answering would then
# stall training forever, so a request gives up after this many seconds (and warns).
_TIMEOUT_SECONDS = 10.0


def _plain(value: Any) -> Any:
    """A NumPy or torch scalar as a Python number, for JSON; other values unchanged."""
    if isinstance(value, (np.ndarray, np.generic)):
        return value.item()
    if isinstance(value, torch.Tensor):
        return value.item()
    return value


class RemoteMonitor(Callback):
    """Sends the logs of every epoch to a server: an HTTP POST to `root + path`.

    The payload is `{"epoch": epoch, **logs}` as JSON: the request body itself with
    `send_as_json=True` (content type `application/json`), otherwise a form field named
    `field` (content type `application/x-www-form-urlencoded`), as Keras sends them. If the
    server cannot be reached, a warning is issued and training goes on; a server that answers
    with an HTTP error status gets no warning (Keras does not look at the status either).

    Args:
        root: the server's root URL (http or https).
        path: the path under `root` the events are posted to.
        field: the form field holding the JSON (only when `send_as_json=False`).
        headers: extra HTTP headers, a dict of strings.
        send_as_json: send the JSON as the request body.

    Differences from Keras 3.15.1: it needs no `requests` library, and a request gives up after
    10 seconds (then warns) rather than waiting without limit.

    >>> RemoteMonitor(root="ftp://example.org")
    Traceback (most recent call last):
      ...
    ValueError: RemoteMonitor posts to http or https URLs; got root='ftp://example.org'
    """

    def __init__(
        self,
        root: str = "http://localhost:9000",
        path: str = "/publish/epoch/end/",
        field: str = "data",
        headers: dict[str, str] | None = None,
        send_as_json: bool = False,
    ) -> None:
        super().__init__()
        scheme = urllib.parse.urlsplit(str(root)).scheme
        if scheme not in ("http", "https"):
            # urllib would also open file:// and ftp:// URLs; a monitor only posts over HTTP.
            raise ValueError(f"RemoteMonitor posts to http or https URLs; got root={root!r}")
        self.root = root
        self.path = path
        self.field = field
        self.headers = headers
        self.send_as_json = send_as_json

    def _request(self, send: dict[str, Any]) -> urllib.request.Request:
        headers = dict(self.headers or {})
        if self.send_as_json:
            body = json.dumps(send).encode("utf-8")
            headers.setdefault("Content-Type", "application/json")
        else:
            body = urllib.parse.urlencode({self.field: json.dumps(send)}).encode("ascii")
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        return urllib.request.Request(
            self.root + self.path, data=body, headers=headers, method="POST"
        )

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        send = {"epoch": epoch}
        send.update({key: _plain(value) for key, value in (logs or {}).items()})
        request = self._request(send)
        try:
            # The scheme was checked in __init__ (http or https only).
            with urllib.request.urlopen(request, timeout=_TIMEOUT_SECONDS) as response:  # noqa: S310
                response.read()
        except urllib.error.HTTPError as error:
            error.close()  # the server answered; its status is not the monitor's concern (Keras)
        except (urllib.error.URLError, OSError):
            warnings.warn(f"Could not reach RemoteMonitor root server at {self.root}", stacklevel=2)
