"""What a local HTTP server serves in download tests (the `server` fixture in conftest)."""

from __future__ import annotations

import http.server
from typing import ClassVar

PAYLOAD = bytes(range(256)) * 4000  # 1 MB


class RangeHandler(http.server.BaseHTTPRequestHandler):
    """Serves PAYLOAD, honouring `Range: bytes=N-`; records the ranges asked for."""

    ranges: ClassVar[list[str | None]] = []
    cut_after: int | None = None  # drop the connection after this many bytes (once)

    def do_GET(self) -> None:
        asked = self.headers.get("Range")
        type(self).ranges.append(asked)
        start = int(asked.split("=")[1].rstrip("-")) if asked else 0
        body = PAYLOAD[start:]
        self.send_response(206 if asked else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if type(self).cut_after is not None:
            body = body[: type(self).cut_after]
            type(self).cut_after = None
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass
