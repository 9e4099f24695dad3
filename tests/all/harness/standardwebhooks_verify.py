"""Verifies webhook deliveries with the official Standard Webhooks library.

Reads a JSON list of {secret, headers, body} from the file named by argv[1];
prints "ok N" when the library accepts every one, else exits 1 naming the first
it refused."""
import json
import sys

from standardwebhooks.webhooks import Webhook

cases = json.load(open(sys.argv[1]))
for i, case in enumerate(cases):
    try:
        Webhook(case["secret"]).verify(case["body"], case["headers"])
    except Exception as e:  # noqa: BLE001
        print(f"case {i} refused: {type(e).__name__}: {e}")
        sys.exit(1)
print(f"ok {len(cases)}")
