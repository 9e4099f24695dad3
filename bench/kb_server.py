"""What the knowledge-base benchmarks share: a pinned venv, a server to talk to, and its API.

Either an existing server (PERFORMCHAT_URL, PERFORMCHAT_KEY_ID, PERFORMCHAT_KEY_SECRET) or a
fresh one: the given binary serving a throw-away database, rate limits off, with a company,
an agent and a key made by `performchat quickstart`.
"""
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, "target", "bench-venv")
# Pinned, so that the baseline's figures can be compared across sittings.
PINNED = ["rank-bm25==0.2.2", "numpy==2.2.6"]


def ensure_venv(module):
    """Re-runs this script inside target/bench-venv (created on first use) unless `module` imports."""
    try:
        __import__(module)
        return
    except ImportError:
        pass
    python = os.path.join(VENV, "bin", "python")
    # Not sys.executable: a venv's python is a symlink to the one that made it.
    if os.path.realpath(sys.prefix) == os.path.realpath(VENV):
        sys.exit(f"{module} is missing from {VENV}: remove that folder and run again")
    if not os.path.exists(python):
        print(f"creating {VENV} with {' '.join(PINNED)} ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
        subprocess.run([python, "-m", "pip", "install", "--quiet", *PINNED], check=True)
    os.execv(python, [python, *sys.argv])


def default_bin():
    for profile in ("release", "debug"):
        path = os.path.join(ROOT, "target", profile, "performchat")
        if os.path.exists(path):
            return path
    sys.exit("no performchat binary: cargo build --release (or pass --bin)")


class Api:
    def __init__(self, url, key_id, key_secret):
        self.url = url.rstrip("/")
        self.auth = "Basic " + base64.b64encode(f"{key_id}:{key_secret}".encode()).decode()

    def call(self, method, path, body=None, query=None):
        url = f"{self.url}/rest/v1{path}"
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(url, data=data, method=method)
        req.add_header("Authorization", self.auth)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                text = r.read()
                return r.status, (json.loads(text) if text else None)
        except urllib.error.HTTPError as e:
            raise SystemExit(f"{method} {path}: HTTP {e.code}: {e.read()[:500]!r}")

    def upsert(self, external_id, doc):
        ext = urllib.parse.quote(external_id, safe="")
        return self.call("PUT", f"/knowledge/documents/by-external-id/{ext}", doc)[1]

    def search(self, q, limit, agent_id=None):
        query = {"q": q, "limit": limit}
        if agent_id:
            query["agent_id"] = agent_id
        return self.call("GET", "/knowledge/search", query=query)[1]["data"]


class Server:
    """A fresh server on `database_url` (a SQLite file in a temp dir when None), stopped on exit."""

    def __init__(self, binary, port, database_url=None):
        self.dir = tempfile.mkdtemp(prefix="kb-bench-")
        self.db = database_url or f"sqlite://{self.dir}/bench.db"
        made = subprocess.run([binary, "--database-url", self.db, "quickstart", "--company", "Bench",
                               "--agent", "Docs", "--json"], check=True, capture_output=True, text=True)
        info = json.loads(made.stdout)
        self.agent = info["agent_id"]
        env = {**os.environ, "PERFORMCHAT_RATE_LIMITS": "off", "RUST_LOG": "warn"}
        for var in ("PERFORMCHAT_LLM_URL", "PERFORMCHAT_LLM_MODEL", "PERFORMCHAT_LLM_API_KEY"):
            env.pop(var, None)
        self.log = open(os.path.join(self.dir, "server.log"), "w")
        self.proc = subprocess.Popen([binary, "--database-url", self.db, "serve", "--listen", f"127.0.0.1:{port}"],
                                     stdout=self.log, stderr=self.log, env=env)
        self.url = f"http://127.0.0.1:{port}"
        for _ in range(300):
            if self.proc.poll() is not None:
                break
            try:
                urllib.request.urlopen(self.url + "/health", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        else:
            self.stop()
            raise SystemExit("the server did not become healthy")
        if self.proc.poll() is not None:
            raise SystemExit("the server exited: " + open(self.log.name).read()[-2000:])
        self.api = Api(self.url, info["keyId"], info["keySecret"])

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def existing_server():
    """The server of PERFORMCHAT_URL with PERFORMCHAT_KEY_ID/SECRET, or None."""
    url = os.environ.get("PERFORMCHAT_URL")
    if not url:
        return None
    return Api(url, os.environ["PERFORMCHAT_KEY_ID"], os.environ["PERFORMCHAT_KEY_SECRET"])
