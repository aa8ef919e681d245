"""The HTTP layer: a threaded server passing /3.0 to the emulator and /_emulator/ to the control API."""

import json
import logging
import socket
import struct
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import control
from .errors import problem

log = logging.getLogger("shoop_mailchimp.testing.emulator")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.open_connections = set()
        self.connections_lock = threading.Lock()

    def cut_connections(self):
        """Going down drops the kept-alive connections too, as a dead host would."""
        with self.connections_lock:
            connections, self.open_connections = self.open_connections, set()
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    # Keep-alive, as Mailchimp's servers do: clients that reuse connections are measured doing so.
    protocol_version = "HTTP/1.1"
    server_version = "MailchimpEmulator/1.0"
    #: Seconds an idle kept-alive connection stays open.
    timeout = 60

    def setup(self):
        super().setup()
        # Headers and body go out in two writes; without this, Nagle's algorithm holds the body back
        # until the client's delayed ACK (40 ms) on a kept-alive connection.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.connections_lock:
            self.server.open_connections.add(self.connection)
        self.server.emulator.count_connection()

    def finish(self):
        try:
            super().finish()
        finally:
            with self.server.connections_lock:
                self.server.open_connections.discard(self.connection)

    def parse_request(self):
        # The request has arrived (its first line is read): a latency counts from here.
        self.arrived = time.time()
        return super().parse_request()

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def do_PUT(self):
        self._handle("PUT")

    def do_PATCH(self):
        self._handle("PATCH")

    def do_DELETE(self):
        self._handle("DELETE")

    def log_message(self, format, *args):
        log.debug("%s - %s", self.address_string(), format % args)

    def _handle(self, method):
        emulator = self.server.emulator
        parsed = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(parsed.query, keep_blank_values=True))
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if len(raw) < length:
            # The client went away mid-request (a worker killed while sending): a server never handles half a
            # request, and it is no client's spec violation.
            self.close_connection = True
            return
        path = parsed.path
        if path.startswith("/_emulator/"):
            status, body, content_type = control.handle(
                emulator, method, path[len("/_emulator") :], query, raw
            )
            self._send(status, body, content_type)
        elif path == "/3.0" or path.startswith("/3.0/"):
            redirect = emulator.faults.redirect_for(method, path[len("/3.0") :] or "/")
            if redirect:
                self._redirect(*redirect)
                return
            outcome = emulator.handle_http(
                method, path[len("/3.0") :] or "/", query, raw, self.headers.get("Authorization"),
                arrived=self.arrived,
            )
            if outcome is None:
                self._reset()
            else:
                self._send(*outcome)
        else:
            self._send(404, problem(404, "Only /3.0/ and /_emulator/ are served here."))

    def _send(self, status, body, content_type=None):
        if isinstance(body, bytes):
            payload = body
        elif body is None:
            payload = b""
        else:
            payload = json.dumps(body).encode("utf-8")
            if content_type is None:
                content_type = "application/problem+json" if status >= 400 else "application/json"
        self.send_response(status)
        if payload or status != 204:
            self.send_header("Content-Type", content_type or "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if payload:
            self.wfile.write(payload)

    def _redirect(self, status, location):
        """With a JSON body, as gateways in front of JSON APIs answer: a client that takes anything
        below 400 for success reads it as the resource."""
        payload = json.dumps(problem(status, "Redirected (emulator fault)", title="Redirect")).encode("utf-8")
        self.send_response(status)
        if location:
            self.send_header("Location", location)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _reset(self):
        """Drop the connection with a TCP reset and no answer."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass


class EmulatorServer:
    """Owns the listening socket and its serving thread, so the port can be closed and re-opened."""

    def __init__(self, emulator, host, port):
        self._httpd = _Server((host, port), _Handler)
        self._httpd.emulator = emulator
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"mailchimp-emulator-{self.port}",
            daemon=True,
        )
        self._thread.start()

    def close(self):
        self._httpd.shutdown()
        self._httpd.server_close()
        self._httpd.cut_connections()
        self._thread.join(timeout=5)
