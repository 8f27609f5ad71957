"""RemoteMonitor: epoch logs posted with urllib to a local http.server, as Keras posts them."""

import json
import socket
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer

import numpy as np
import pytest
import torch

import lamina
from lamina.callbacks.remote import RemoteMonitor
from lamina.layers import Dense, Input

LOGS = {"loss": np.float32(0.25), "acc": np.array(0.5), "lr": 0.01}
# The request bodies Keras 3.15.1 (with requests) sent for LOGS to the same kind of server.
KERAS_FORM_BODY = (
    b"data=%7B%22epoch%22%3A+3%2C+%22loss%22%3A+0.25%2C+%22acc%22%3A+0.5%2C+%22lr%22%3A+0.01%7D"
)
KERAS_JSON_BODY = b'{"epoch": 4, "loss": 0.25, "acc": 0.5, "lr": 0.01}'


@pytest.fixture(autouse=True)
def fresh_names():
    lamina.clear_session()


@pytest.fixture
def server():
    """A local HTTP server that records the POSTs it gets and answers with `status`."""
    received = []

    class Handler(BaseHTTPRequestHandler):
        status = 200

        def do_POST(self):  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, dict(self.headers), body))
            self.send_response(Handler.status)
            self.end_headers()

        def log_message(self, *args):
            pass

    httpd = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    httpd.received = received
    httpd.handler = Handler
    httpd.root = f"http://127.0.0.1:{httpd.server_port}"
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def test_form_post_matches_keras(server):
    RemoteMonitor(root=server.root).on_epoch_end(3, LOGS)
    path, headers, body = server.received[0]
    assert path == "/publish/epoch/end/"
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert body == KERAS_FORM_BODY


def test_json_post_with_headers_matches_keras(server):
    monitor = RemoteMonitor(
        root=server.root, path="/p", headers={"X-Token": "abc"}, send_as_json=True
    )
    monitor.on_epoch_end(4, LOGS)
    path, headers, body = server.received[0]
    assert path == "/p"
    assert headers["Content-Type"] == "application/json" and headers["X-Token"] == "abc"
    assert body == KERAS_JSON_BODY


def test_field_names_the_form_field_and_tensors_become_numbers(server):
    RemoteMonitor(root=server.root, field="payload").on_epoch_end(0, {"loss": torch.tensor(1.5)})
    form = urllib.parse.parse_qs(server.received[0][2].decode())
    assert json.loads(form["payload"][0]) == {"epoch": 0, "loss": 1.5}


def test_fit_posts_once_per_epoch(server):
    model = lamina.Sequential([Input((2,)), Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.ones((4, 2), "float32")
    monitor = RemoteMonitor(root=server.root, send_as_json=True)
    model.fit(x, x[:, :1], epochs=2, verbose=0, callbacks=[monitor])
    sent = [json.loads(body) for _, _, body in server.received]
    assert [entry["epoch"] for entry in sent] == [0, 1]
    assert all(isinstance(entry["loss"], float) for entry in sent)


def test_unreachable_server_warns_as_keras():
    with socket.socket() as probe:  # a port nobody listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    root = f"http://127.0.0.1:{port}"
    with pytest.warns(UserWarning, match=f"Could not reach RemoteMonitor root server at {root}"):
        RemoteMonitor(root=root).on_epoch_end(0, {"loss": 1.0})


def test_an_http_error_status_is_not_a_warning(server):
    server.handler.status = 500  # Keras 3.15.1 gives no warning either
    RemoteMonitor(root=server.root).on_epoch_end(0, {"loss": 1.0})
    assert len(server.received) == 1


def test_only_http_urls_are_accepted():
    with pytest.raises(ValueError, match="http or https URLs; got root='file:///etc'"):
        RemoteMonitor(root="file:///etc")
