#!/usr/bin/python3
"""A local Hugging Face Hub for the tests: the endpoints and headers huggingface_hub relies on
(see docs/models.md, "How the test server was checked"), plus a second "CDN" server on another
host name that LFS files redirect to. Standard library only; started and stopped by the tests.

Config (JSON):
  {"repos": {"org/name": {"commit": "<40 hex>", "refs": {"main": "<40 hex>"},
                          "files": {"path/in/repo": "/abs/source/file"},
                          "lfs": ["*.safetensors", "*.ckpt"], "token": "hf_x" (gated when set)}},
   "drop_once": ["org/name/path"],   # first full CDN GET sends half the body, then closes
   "corrupt": ["org/name/path"],     # CDN serves the right size with one byte flipped
   "delay": 0.0}                     # seconds slept per 16 KiB chunk served (overlap tests)
Writes "<hub_port> <cdn_port>" to --ready when listening; logs one JSON line per request.
"""
import argparse
import fnmatch
import hashlib
import json
import os
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CHUNK = 16 * 1024


class State:
    def __init__(self, config, log_path):
        self.repos = config["repos"]
        self.drop_once = set(config.get("drop_once", []))
        self.corrupt = set(config.get("corrupt", []))
        self.delay = float(config.get("delay", 0.0))
        self.log_path = log_path
        self.lock = threading.Lock()
        self.blobs = {}  # sha256 -> (repo_id, path)
        self.cdn = None
        for repo_id, repo in self.repos.items():
            repo["meta"] = {}
            for path, src in repo["files"].items():
                data = open(src, "rb").read()
                lfs = any(fnmatch.fnmatchcase(path, p) for p in repo.get("lfs", []))
                oid = git_oid(data)  # git blob id
                sha = hashlib.sha256(data).hexdigest()
                pointer = ("version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize %d\n" % (sha, len(data))).encode()
                repo["meta"][path] = {"src": src, "size": len(data), "lfs": lfs, "sha256": sha, "oid": oid,
                                      "pointer_oid": git_oid(pointer), "pointer_size": len(pointer)}
                if lfs:
                    self.blobs[sha] = (repo_id, path)

    def log(self, **entry):
        with self.lock:
            with open(self.log_path, "a") as f:
                f.write(json.dumps(entry) + "\n")


def parse_range(header, size):
    """(first, last) byte of a `Range: bytes=A-` or `bytes=A-B` header, clamped to the file; None without one."""
    if not header:
        return None
    assert header.startswith("bytes="), header
    a, b = header[len("bytes="):].split("-", 1)
    first = int(a)
    last = min(int(b), size - 1) if b else size - 1
    return first, last


def serve_body(handler, state, data, key, allow_faults, headers=None):
    """200, or 206 for a Range (open `A-` as huggingface_hub resumes, closed `A-B` as the JavaScript
    client probes), with the faults the tests ask for."""
    rng = handler.headers.get("Range")
    first_last = parse_range(rng, len(data))
    start = first_last[0] if first_last else 0
    if allow_faults and key in state.corrupt:
        data = bytearray(data)
        data[len(data) // 2] ^= 0xFF
        data = bytes(data)
    body = data[start:first_last[1] + 1] if first_last else data
    handler.send_response(206 if rng else 200)
    for k, v in (headers or {}).items():
        handler.send_header(k, v)
    handler.send_header("Content-Length", str(len(body)))
    handler.send_header("Accept-Ranges", "bytes")
    if rng:
        handler.send_header("Content-Range", "bytes %d-%d/%d" % (start, first_last[1], len(data)))
    handler.end_headers()
    if handler.command == "HEAD":
        return
    drop = False
    if allow_faults and not rng:
        with state.lock:
            if key in state.drop_once:
                state.drop_once.discard(key)
                drop = True
    limit = len(body) // 2 if drop else len(body)
    sent = 0
    while sent < limit:
        n = min(CHUNK, limit - sent)
        handler.wfile.write(body[sent:sent + n])
        handler.wfile.flush()
        sent += n
        if state.delay:
            time.sleep(state.delay)
    if drop:  # the connection dies mid-file
        handler.close_connection = True
        handler.connection.shutdown(2)


def git_oid(data):
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def path_entries(repo, commit, paths=None, expand=False):
    """The Hub's tree / paths-info entries: files (LFS ones with their pointer's oid and an `lfs`
    object) and the folders above them."""
    entries, folders = [], set()
    for path, meta in sorted(repo["meta"].items()):
        parts = path.split("/")
        for i in range(1, len(parts)):
            folders.add("/".join(parts[:i]))
        e = {"type": "file", "path": path, "size": meta["size"],
             "oid": meta["pointer_oid"] if meta["lfs"] else meta["oid"]}
        if meta["lfs"]:
            e["lfs"] = {"oid": meta["sha256"], "size": meta["size"], "pointerSize": meta["pointer_size"]}
        entries.append(e)
    entries += [{"type": "directory", "path": d, "size": 0, "oid": git_oid(d.encode())} for d in sorted(folders)]
    if paths is not None:
        entries = [e for e in entries if e["path"] in paths]
    if expand:
        for e in entries:
            e["lastCommit"] = {"id": commit, "title": "Upload", "date": "2025-01-01T00:00:00.000Z"}
    return entries


class HubHandler(BaseHTTPRequestHandler):
    state = None

    def log_message(self, *args):
        pass

    def error(self, status, code, message, extra=None):
        self.send_response(status)
        self.send_header("X-Error-Code", code)
        self.send_header("X-Error-Message", message)
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        body = json.dumps({"error": message}).encode()
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def auth_error(self, repo_id, repo):
        """None when allowed, else the (status, code, message) the Hub answers for a gated repo."""
        token = repo.get("token")
        if not token:
            return None
        auth = self.headers.get("Authorization")
        if auth is None:
            return (401, "GatedRepo", "Access to model %s is restricted. You must have access to it and be "
                    "authenticated to access it. Please log in." % repo_id)
        if auth != "Bearer " + token:
            return (403, "GatedRepo", "Access to model %s is restricted and you are not in the authorized list. "
                    "Visit https://huggingface.co/%s to ask for access." % (repo_id, repo_id))
        return None

    def commit_of(self, repo, rev):
        if rev == repo["commit"]:
            return rev
        return repo.get("refs", {}).get(rev)

    def do_HEAD(self):
        self.handle_any()

    def do_GET(self):
        self.handle_any()

    def do_POST(self):
        self.handle_any()

    def send_json(self, value):
        body = json.dumps(value).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def handle_any(self):
        st = self.state
        url = urllib.parse.urlsplit(self.path)
        parts = url.path.split("/")
        st.log(server="hub", method=self.command, path=url.path, range=self.headers.get("Range"),
               auth=self.headers.get("Authorization") is not None)
        # /api/models/{org}/{name}/revision/{rev} (both clients), and what only Hugging Face's
        # JavaScript client asks before it downloads: /tree/{rev}[/{path}]?recursive=.. and
        # POST /paths-info/{rev}
        if len(parts) >= 7 and parts[1] == "api" and parts[2] == "models" and parts[5] in ("revision", "tree", "paths-info"):
            repo_id = parts[3] + "/" + parts[4]
            rev = urllib.parse.unquote(parts[6])
            repo = st.repos.get(repo_id)
            if repo is None:
                return self.error(401, "RepoNotFound", "Repository not found")
            commit = self.commit_of(repo, rev)
            if commit is None:
                return self.error(404, "RevisionNotFound", "Invalid rev id: %s" % rev)
            if parts[5] == "revision" and len(parts) == 7:
                return self.send_json({"_id": "0" * 24, "id": repo_id, "modelId": repo_id, "sha": commit,
                                       "private": False, "gated": "manual" if repo.get("token") else False,
                                       "disabled": False, "lastModified": "2025-01-01T00:00:00.000Z", "tags": [],
                                       "siblings": [{"rfilename": p} for p in repo["files"]]})
            if parts[5] == "paths-info":
                if self.command != "POST":
                    return self.error(405, "MethodNotAllowed", "paths-info takes a POST")
                req = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
                return self.send_json(path_entries(repo, commit, set(req.get("paths", [])), bool(req.get("expand"))))
            if parts[5] == "tree":
                prefix = urllib.parse.unquote("/".join(parts[7:]))
                recursive = urllib.parse.parse_qs(url.query).get("recursive", ["false"])[0] == "true"
                entries = [e for e in path_entries(repo, commit) if not prefix or e["path"].startswith(prefix + "/")]
                if not recursive:
                    depth = prefix.count("/") + 1 if prefix else 0
                    entries = [e for e in entries if e["path"].count("/") == depth]
                return self.send_json(entries)
        # /{org}/{name}/resolve/{rev}/{path...}
        if len(parts) >= 6 and parts[3] == "resolve":
            repo_id = parts[1] + "/" + parts[2]
            rev = urllib.parse.unquote(parts[4])
            path = urllib.parse.unquote("/".join(parts[5:]))
            repo = st.repos.get(repo_id)
            if repo is None:
                return self.error(401, "RepoNotFound", "Repository not found")
            denied = self.auth_error(repo_id, repo)
            if denied:
                return self.error(*denied)
            commit = self.commit_of(repo, rev)
            if commit is None:
                return self.error(404, "RevisionNotFound", "Invalid rev id: %s" % rev)
            meta = repo["meta"].get(path)
            if meta is None:
                return self.error(404, "EntryNotFound", "Entry not found", {"X-Repo-Commit": commit})
            if meta["lfs"]:
                location = "http://%s:%d/repos/%s/%s/%s?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=%s" % (
                    st.cdn[0], st.cdn[1], meta["sha256"][:2], meta["sha256"][2:4], meta["sha256"],
                    hashlib.md5(path.encode()).hexdigest())
                body = ("Found. Redirecting to %s" % location).encode()
                self.send_response(302)
                self.send_header("Location", location)
                self.send_header("X-Repo-Commit", commit)
                self.send_header("X-Linked-Etag", '"%s"' % meta["sha256"])
                self.send_header("X-Linked-Size", str(meta["size"]))
                self.send_header("ETag", '"%s"' % meta["pointer_oid"])
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)
                return
            serve_body(self, st, open(meta["src"], "rb").read(), repo_id + "/" + path, False,
                       {"X-Repo-Commit": commit, "ETag": '"%s"' % meta["oid"]})
            return
        self.error(404, "NotFound", "Not Found")


class CdnHandler(BaseHTTPRequestHandler):
    state = None

    def log_message(self, *args):
        pass

    def do_GET(self):
        st = self.state
        url = urllib.parse.urlsplit(self.path)
        sha = url.path.rsplit("/", 1)[-1]
        st.log(server="cdn", method=self.command, path=url.path, range=self.headers.get("Range"),
               auth=self.headers.get("Authorization") is not None, host=self.headers.get("Host"))
        if self.headers.get("Authorization") is not None:  # a signed URL: a token here is a leak
            self.send_response(400)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if sha not in st.blobs or "X-Amz-Signature" not in url.query:
            self.send_response(403)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        repo_id, path = st.blobs[sha]
        meta = st.repos[repo_id]["meta"][path]
        data = open(meta["src"], "rb").read()
        # S3 answers with the object's ETag (an MD5 for single-part uploads); the JavaScript
        # client insists on one, huggingface_hub ignores it (it has X-Linked-Etag from the Hub).
        serve_body(self, st, data, repo_id + "/" + path, True, {"ETag": '"%s"' % hashlib.md5(data).hexdigest()})

    do_HEAD = do_GET


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--ready", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--cdn-host", default="localhost")
    args = ap.parse_args()
    state = State(json.load(open(args.config)), args.log)
    HubHandler.state = state
    CdnHandler.state = state
    # A connection the tests drop on purpose is not an error worth a traceback.
    ThreadingHTTPServer.handle_error = lambda self, request, client_address: None
    hub = ThreadingHTTPServer(("127.0.0.1", args.port), HubHandler)
    cdn = ThreadingHTTPServer(("127.0.0.1", 0), CdnHandler)
    state.cdn = (args.cdn_host, cdn.server_address[1])
    threading.Thread(target=cdn.serve_forever, daemon=True).start()
    tmp = args.ready + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d %d\n" % (hub.server_address[1], cdn.server_address[1]))
    os.replace(tmp, args.ready)
    hub.serve_forever()


if __name__ == "__main__":
    main()
