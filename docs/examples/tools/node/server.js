// An agent tool endpoint for performchat (docs/TOOLS.md), in Node with Express.
// It answers `lookup_order`: the order status of the customer user who asks.
// Every call is verified with the official Standard Webhooks library first.
//
//   npm install express@5.3.0 standardwebhooks@1.3.0
//   TOOL_SECRET=tsec_... PORT=3000 node server.js
const express = require("express");
const { Webhook } = require("standardwebhooks");

// The tool's secret is `tsec_` + base64; the library takes the base64 part.
const secret = process.env.TOOL_SECRET || "";
if (!secret.startsWith("tsec_")) {
  console.error("set TOOL_SECRET to the tool's secret (tsec_...)");
  process.exit(1);
}
const webhook = new Webhook(secret.slice("tsec_".length));

// Your order system; here, a few orders per customer user's external_id.
const ORDERS = {
  "A-1001": { owner: "dana-7", state: "shipped", eta: "2025-01-17" },
  "A-1002": { owner: "dana-7", state: "processing", eta: null },
};

const app = express();

// The signature covers the exact bytes sent: read the body raw, parse after.
app.post("/tools/lookup-order", express.raw({ type: "*/*" }), (req, res) => {
  let call;
  try {
    call = webhook.verify(req.body.toString("utf8"), req.headers);
  } catch (err) {
    return res.status(401).json({ error: "invalid signature" });
  }
  // call: { tool, arguments, call_id, customer_user, conversation_id, agent_id }
  const id = String(call.arguments.order_id || "").toUpperCase();
  const order = ORDERS[id];
  // Only the asking user's own orders: the server says who asks.
  if (!order || order.owner !== call.customer_user.external_id) {
    return res.json({ order_id: id, found: false });
  }
  res.json({ order_id: id, found: true, state: order.state, eta: order.eta });
});

const port = Number(process.env.PORT || 3000);
app.listen(port, "127.0.0.1", () => console.log(`listening on ${port}`));
