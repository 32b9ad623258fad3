#!/usr/bin/python3
"""verify_webhooks: an independent Standard Webhooks verifier (written from the spec at
standardwebhooks.com with hmac/hashlib and the cryptography package, sharing no code with
boxoffice). Reads the sandbox receiver's records and checks every one:

  verify_webhooks.py RECORDS_URL [--secret whsec_...]... [--public-key whpk_...] [--tolerance S]

A record passes when webhook-id, webhook-timestamp and webhook-signature are present, the
timestamp is within the tolerance of the time the sandbox received it, and at least one
space-separated signature matches one of the secrets ("v1,", HMAC-SHA256 over
id.timestamp.body keyed with the base64 part of the secret) or the public key ("v1a,",
Ed25519). Prints one JSON line: {"records", "verified", "ids", "by_secret": {...}} and exits
0 only when every record verified."""
import base64
import hashlib
import hmac
import json
import sys
import urllib.request

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def main():
    url, secrets, pubkeys, tolerance = sys.argv[1], [], [], 300
    args = sys.argv[2:]
    while args:
        flag, value = args[0], args[1]
        args = args[2:]
        if flag == "--secret":
            secrets.append(value)
        elif flag == "--public-key":
            pubkeys.append(value)
        elif flag == "--tolerance":
            tolerance = int(value)
    records = json.load(urllib.request.urlopen(url, timeout=30))["records"]
    verified, ids, by_secret = 0, set(), {s: 0 for s in secrets + pubkeys}
    for r in records:
        msg_id, ts, sigs, body = r.get("id"), r.get("timestamp"), r.get("signature"), r.get("body", "")
        if not (msg_id and ts and sigs):
            continue
        if abs(int(ts) - r["received_ms"] // 1000) > tolerance:
            continue
        content = ("%s.%s.%s" % (msg_id, ts, body)).encode()
        ok = False
        for sig in sigs.split(" "):
            version, _, value = sig.partition(",")
            for s in secrets:
                if version == "v1":
                    key = base64.b64decode(s[len("whsec_"):])
                    expect = base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
                    if hmac.compare_digest(expect, value):
                        ok = True
                        by_secret[s] += 1
            for p in pubkeys:
                if version == "v1a":
                    try:
                        Ed25519PublicKey.from_public_bytes(base64.b64decode(p[len("whpk_"):])).verify(
                            base64.b64decode(value), content)
                        ok = True
                        by_secret[p] += 1
                    except Exception:
                        pass
        if ok:
            verified += 1
            ids.add(msg_id)
    print(json.dumps({"records": len(records), "verified": verified, "ids": len(ids),
                      "by_secret": list(by_secret.values())}))
    sys.exit(0 if records and verified == len(records) else 1)


if __name__ == "__main__":
    main()
