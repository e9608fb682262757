"""A small TCP proxy in the test process, between the engine and PostgreSQL, that the test can
cut: at once (`kill()`), or the moment the client sends a chosen message (`kill_when`), in
which case that message is never forwarded, so the server never acts on it."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable

Trigger = Callable[[bytes], bool]


class KillingProxy:
    """Listens on 127.0.0.1:<port> and relays each connection to `upstream`."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._triggers: list[Trigger] = []
        self.killed = threading.Event()
        self.sent = 0  # bytes clients sent
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def kill_when(self, trigger: Trigger) -> None:
        """Cut every connection (and stop listening) as soon as `trigger(chunk)` is true for a
        chunk a client sends (with the previous 256 bytes of that connection in front, so a
        message split over two reads is still seen), before forwarding that chunk. Triggers
        are called in order of arrival and may keep state."""
        self._triggers.append(trigger)

    def kill(self) -> None:
        with self._lock:
            if self.killed.is_set():
                return
            self.killed.set()
            for s in [self._listener, *self._sockets]:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()

    def _accept(self) -> None:
        while not self.killed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                client.close()
                continue
            with self._lock:
                if self.killed.is_set():
                    client.close()
                    server.close()
                    return
                self._sockets += [client, server]
                self.connections += 1
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False),
                             daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, from_client: bool) -> None:
        tail = b""
        while True:
            try:
                chunk = source.recv(65536)
            except OSError:
                chunk = b""
            if not chunk:
                break
            if from_client:
                with self._lock:
                    self.sent += len(chunk)
                    fire = any(t(tail + chunk) for t in self._triggers)
                tail = (tail + chunk)[-256:]
                if fire:
                    self.kill()
                    return
            try:
                target.sendall(chunk)
            except OSError:
                break
        for s in (source, target):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
