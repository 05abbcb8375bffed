"""A minimal Hugging Face Hub server on 127.0.0.1 for download tests.

It serves one repository's files through the endpoints ``huggingface_hub.snapshot_download``
uses (revision info, file tree, ``resolve`` with commit and ETag headers; large files are LFS
with their SHA-256 as ETag). ``corrupt`` names files whose bytes are altered after hashing.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.server
import json
import threading
from pathlib import Path

COMMIT = "1234567890abcdef1234567890abcdef12345678"


def _handler(repo_id: str, files: dict[str, bytes], corrupt: set[str], requests: list):
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _send(self, body: bytes, headers=None, code=200, head=False):
            self.send_response(code)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not head:
                self.wfile.write(body)

        def _serve(self, head):
            path = self.path.split("?")[0]
            requests.append(path)
            if path.startswith(f"/api/models/{repo_id}/revision/"):
                info = {"id": repo_id, "sha": COMMIT, "siblings": [{"rfilename": name} for name in files]}
                return self._send(json.dumps(info).encode(), {"Content-Type": "application/json"}, head=head)
            if path.startswith(f"/api/models/{repo_id}/tree/"):
                tree = []
                for name, body in files.items():
                    entry = {"type": "file", "path": name, "size": len(body), "oid": hashlib.sha1(body).hexdigest()}
                    if name.endswith(".safetensors"):
                        entry["lfs"] = {"size": len(body), "oid": hashlib.sha256(body).hexdigest(), "pointerSize": 130}
                    tree.append(entry)
                return self._send(json.dumps(tree).encode(), {"Content-Type": "application/json"}, head=head)
            prefix = f"/{repo_id}/resolve/"
            if path.startswith(prefix):
                name = path[len(prefix):].split("/", 1)[1]
                if name not in files:
                    return self._send(b"", {"X-Error-Code": "EntryNotFound"}, 404, head)
                body = files[name]
                headers = {"X-Repo-Commit": COMMIT, "ETag": f'"{hashlib.sha1(body).hexdigest()}"'}
                if name.endswith(".safetensors"):
                    headers["X-Linked-Etag"] = f'"{hashlib.sha256(body).hexdigest()}"'
                    headers["X-Linked-Size"] = str(len(body))
                if name in corrupt:
                    body = bytes([body[0] ^ 1]) + body[1:]
                return self._send(body, headers, head=head)
            return self._send(b"", {"X-Error-Code": "RepoNotFound"}, 404, head)

        def do_GET(self):
            self._serve(False)

        def do_HEAD(self):
            self._serve(True)

    return Handler


@contextlib.contextmanager
def serve_repo(repo_id: str, folder: Path, corrupt=()):
    """Serve the files of ``folder`` as hub repository ``repo_id``; yields ``(endpoint, requests)``."""
    files = {p.name: p.read_bytes() for p in Path(folder).iterdir() if p.is_file()}
    requests: list[str] = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(repo_id, files, set(corrupt), requests))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", requests
    finally:
        server.shutdown()
        server.server_close()
