"""An agent tool endpoint for performchat (docs/TOOLS.md), in Python with FastAPI.

It answers `lookup_order`: the order status of the customer user who asks.
Every call is verified with the official Standard Webhooks library first.

    pip install -r requirements.txt
    TOOL_SECRET=tsec_... uvicorn app:app --host 127.0.0.1 --port 3000
"""
import os

from fastapi import FastAPI, HTTPException, Request
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

# The tool's secret is `tsec_` + base64; the library takes the base64 part.
SECRET = os.environ.get("TOOL_SECRET", "")
if not SECRET.startswith("tsec_"):
    raise SystemExit("set TOOL_SECRET to the tool's secret (tsec_...)")
webhook = Webhook(SECRET[len("tsec_"):])

# Your order system; here, a few orders per customer user's external_id.
ORDERS = {
    "A-1001": {"owner": "dana-7", "state": "shipped", "eta": "2025-01-17"},
    "A-1002": {"owner": "dana-7", "state": "processing", "eta": None},
}

app = FastAPI()


@app.post("/tools/lookup-order")
async def lookup_order(request: Request):
    # The signature covers the exact bytes sent: verify the raw body.
    body = await request.body()
    try:
        call = webhook.verify(body, dict(request.headers))
    except WebhookVerificationError:
        raise HTTPException(status_code=401, detail="invalid signature")
    # call: {tool, arguments, call_id, customer_user, conversation_id, agent_id}
    order_id = str(call["arguments"].get("order_id", "")).upper()
    order = ORDERS.get(order_id)
    # Only the asking user's own orders: the server says who asks.
    if order is None or order["owner"] != call["customer_user"]["external_id"]:
        return {"order_id": order_id, "found": False}
    return {"order_id": order_id, "found": True, "state": order["state"], "eta": order["eta"]}
