#!/usr/bin/python3
"""mail_qr: decodes the inline QR images of one .eml with zbarimg (zbar-tools), an
independent QR reader, for it_delivery_booking. Prints JSON: {"related": whether the
images sit in a multipart/related with the HTML that references them, "images": [{"cid",
"referenced": the HTML shows cid:<cid>, "text": what zbarimg read or null}]}."""
import email
import email.policy
import json
import os
import subprocess
import sys
import tempfile


def main():
    with open(sys.argv[1], "rb") as f:
        msg = email.message_from_binary_file(f, policy=email.policy.default)
    related, html, images = False, "", []
    for part in msg.walk():
        if part.get_content_type() == "multipart/related":
            kinds = [p.get_content_type() for p in part.walk()]
            related = related or ("image/png" in kinds and "text/html" in kinds)
        elif part.get_content_type() == "text/html":
            html += part.get_content()
        elif part.get_content_type() == "image/png":
            images.append(part)
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, part in enumerate(images):
            path = os.path.join(tmp, "%d.png" % i)
            with open(path, "wb") as f:
                f.write(part.get_payload(decode=True))
            r = subprocess.run(["zbarimg", "--raw", "-q", path], capture_output=True, text=True)
            cid = (part.get("Content-ID") or "").strip("<>")
            out.append({"cid": cid, "referenced": ("cid:" + cid) in html,
                        "text": r.stdout.rstrip("\n") if r.returncode == 0 else None})
    print(json.dumps({"related": related, "images": out}))


if __name__ == "__main__":
    main()
