#!/usr/bin/env python3
"""Prepares the WhatsApp webhook benchmark (bench/run.sh, BENCH_ONLY=whatsapp).

Creates --senders contacts with Brazilian mobile numbers through the API (so messages
match a contact, as most do in production), then writes --messages notifications, one
text message each from a random sender, as Meta sends them, each line
"<X-Hub-Signature-256>\\t<body>" signed with the app secret.
"""
import argparse
import hashlib
import hmac
import http.client
import json
import random
import time


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--key", required=True, help="an admin API key")
    p.add_argument("--number", required=True, help="the channel account's phone_number_id")
    p.add_argument("--secret", required=True, help="the channel account's app_secret")
    p.add_argument("--senders", type=int, default=1000)
    p.add_argument("--messages", type=int, default=100000)
    p.add_argument("--out", required=True)
    a = p.parse_args()

    conn = http.client.HTTPConnection("127.0.0.1", a.port)
    headers = {"Authorization": "Bearer " + a.key, "Content-Type": "application/json"}
    senders = []
    for i in range(a.senders):
        wa_id = "55119%08d" % (10000000 + i)
        conn.request("POST", "/v1/contacts", json.dumps({"name": "Cliente %d" % i, "phone": "+" + wa_id}), headers)
        r = conn.getresponse()
        r.read()
        if r.status != 201:
            raise SystemExit("creating contact %d: HTTP %d" % (i, r.status))
        senders.append(wa_id)

    rng = random.Random(22)
    now = int(time.time())
    with open(a.out, "w") as out:
        for n in range(a.messages):
            wa_id = rng.choice(senders)
            body = json.dumps({
                "object": "whatsapp_business_account",
                "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": {
                    "messaging_product": "whatsapp",
                    "metadata": {"display_phone_number": "551140040000", "phone_number_id": a.number},
                    "contacts": [{"profile": {"name": "Cliente"}, "wa_id": wa_id}],
                    "messages": [{"from": wa_id, "id": "wamid.BENCH%09d" % n, "timestamp": str(now),
                                  "type": "text", "text": {"body": "Bom dia, podemos falar da proposta?"}}]}}]}]},
                separators=(",", ":"))
            signature = "sha256=" + hmac.new(a.secret.encode(), body.encode(), hashlib.sha256).hexdigest()
            out.write(signature + "\t" + body + "\n")


if __name__ == "__main__":
    main()
