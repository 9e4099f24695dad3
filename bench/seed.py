#!/usr/bin/env python3
"""Creates a tenant with the admin CLI, then N customer users through the
API's bulk endpoint (1000 items a call, 4 calls in flight), and prints
KEY_ID KEY_SECRET AGENT_ID. Standard library only.

    PERFORMCHAT_URL=http://127.0.0.1:8080 PERFORMCHAT_CLI='performchat --database-url …' seed.py N PREFIX

With SEED_WEBHOOK_URL set (bench/events.sh), a webhook endpoint subscribed to
every event type is made for the tenant before the users, and its id printed
as a fourth word; SEED_WEBHOOK_ACTIVE=false makes it inactive, so the users'
events wait for it in the feed.
"""
import concurrent.futures
import http.client
import json
import os
import random
import shlex
import subprocess
import sys
import threading
import urllib.parse

BATCH = 1000
CLIENTS = 4
FIRST = ["Anna", "John", "Maria", "Ivan", "Lee", "Sofia", "Noah", "Emma", "Liam", "Mia", "Jürgen", "Zoë"]
LAST = ["Smith", "Garcia", "Müller", "Nguyen", "Ivanov", "Olsen", "Kowalski", "Rossi", "Lee", "Brown",
        "Tanaka", "Dubois"]
PLANS = ["free", "pro", "enterprise"]


def cli(*args):
    """Runs an admin command with --json; its answer is the last line."""
    command = shlex.split(os.environ["PERFORMCHAT_CLI"]) + list(args) + ["--json"]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    users, prefix = int(sys.argv[1]), sys.argv[2]
    base = urllib.parse.urlsplit(os.environ["PERFORMCHAT_URL"])
    company = cli("company", "create", "--name", "Bench " + prefix)["id"]
    agent = cli("agent", "create", "--company", company, "--name", "Bench agent")["id"]
    key = cli("api-key", "create", "--company", company, "--name", "bench")
    credentials = {"keyId": key["keyId"], "keySecret": key["keySecret"]}
    local = threading.local()
    webhook = None
    if os.environ.get("SEED_WEBHOOK_URL"):
        webhook = call(base, "POST", "/rest/v1/webhooks",
                       {**credentials, "url": os.environ["SEED_WEBHOOK_URL"], "events": ["*"]})["id"]
        if os.environ.get("SEED_WEBHOOK_ACTIVE", "true") == "false":
            call(base, "PATCH", f"/rest/v1/webhooks/{webhook}", {**credentials, "active": False})

    def items(start):
        # Seeded per batch: the same users whatever order the calls run in.
        rnd = random.Random(start)
        return [{"external_id": f"{prefix}-{i}",
                 "name": f"{rnd.choice(FIRST)} {rnd.choice(LAST)} {i}",
                 "email": f"user{i}@example.com",
                 "metadata_merge": {"plan": rnd.choice(PLANS)},
                 "create": True}
                for i in range(start, min(start + BATCH, users))]

    def send(start):
        # One keep-alive connection per client thread.
        if not hasattr(local, "conn"):
            local.conn = http.client.HTTPConnection(base.hostname, base.port, timeout=600)
        body = json.dumps({**credentials, "updates": items(start)})
        local.conn.request("POST", "/rest/v1/customer-users/bulk", body,
                           {"Content-Type": "application/json"})
        response = local.conn.getresponse()
        answer = response.read()
        if response.status != 200:
            raise SystemExit(f"bulk call at {start}: HTTP {response.status}: {answer[:300]!r}")
        failed = [r for r in json.loads(answer)["results"] if not r["success"]]
        if failed:
            raise SystemExit(f"bulk call at {start}: {len(failed)} items failed, e.g. {failed[:2]}")

    with concurrent.futures.ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        for _ in pool.map(send, range(0, users, BATCH)):
            pass
    print(key["keyId"], key["keySecret"], agent, *([webhook] if webhook else []))


def call(base, method, path, body):
    """One JSON request on a connection of its own; the answer's JSON."""
    conn = http.client.HTTPConnection(base.hostname, base.port, timeout=60)
    conn.request(method, path, json.dumps(body), {"Content-Type": "application/json"})
    response = conn.getresponse()
    answer = response.read()
    if response.status >= 300:
        raise SystemExit(f"{method} {path}: HTTP {response.status}: {answer[:300]!r}")
    return json.loads(answer)


if __name__ == "__main__":
    main()
