"""A tarpit on 127.0.0.1 for tests and benchmarks: a server that accepts connections and then stalls them, as a
hostile or broken remote does (PRODUCT §3.2, issue 9). ``trickle`` answers HTTP 200 and sends one byte of body
every ``interval`` seconds; ``silent`` reads the request and never answers."""

from __future__ import annotations

import contextlib
import socket
import threading
import time

__all__ = ["Tarpit"]


class Tarpit:
    def __init__(self, *, mode: str = "trickle", interval: float = 1.0) -> None:
        if mode not in ("trickle", "silent"):
            raise ValueError(f"mode: expected trickle or silent, got {mode!r}")
        self.mode = mode
        self.interval = interval
        self.connections = 0
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.05)
        self._stopped = threading.Event()
        self._clients: list[socket.socket] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._serve, name="tarpit", daemon=True)

    @property
    def port(self) -> int:
        return self._server.getsockname()[1]

    def url(self, path: str = "/stalled.git") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> Tarpit:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(5)
        with self._lock:
            for client in self._clients:
                with contextlib.suppress(OSError):
                    client.close()
        self._server.close()

    def __enter__(self) -> Tarpit:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _serve(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self.connections += 1
                self._clients.append(client)
            threading.Thread(target=self._stall, args=(client,), daemon=True).start()

    def _stall(self, client: socket.socket) -> None:
        with contextlib.suppress(OSError):
            client.settimeout(self.interval)
            with contextlib.suppress(TimeoutError):
                client.recv(65536)  # the request line and headers
            if self.mode == "trickle":
                client.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/x-git-upload-pack-advertisement\r\n"
                    b"Cache-Control: no-cache\r\n\r\n"
                )
            while not self._stopped.is_set():
                if self.mode == "trickle":
                    client.sendall(b"0")
                time.sleep(self.interval)
