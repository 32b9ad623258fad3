#!/usr/bin/python3
"""mailcatcher: the demo's local SMTP server (Debian's python3-aiosmtpd), so the e-mails
the notify pool sends can be read without a real mail provider.

Usage: mailcatcher.py [--host 127.0.0.1] [--port 2525] [--dir var/mail]

Every accepted message is written to DIR as <UTC time>-<n>-<first recipient>.eml, the
DATA exactly as received (open it with any mail client, or `python3 -m email` tools),
first as a .tmp file renamed into place so a reader never sees half a message. One line
per message goes to stdout (the log). It listens on loopback only; stop it with SIGTERM.
"""
import argparse
import asyncio
import itertools
import os
import re
import signal
import sys
import time

from aiosmtpd.controller import Controller


class Catcher:
    def __init__(self, folder):
        self.folder = folder
        self.counter = itertools.count(1)

    async def handle_DATA(self, server, session, envelope):
        n = next(self.counter)
        rcpt = envelope.rcpt_tos[0] if envelope.rcpt_tos else "unknown"
        safe = re.sub(r"[^A-Za-z0-9@._+-]", "_", rcpt)[:80]
        name = "%s-%06d-%s.eml" % (time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()), n, safe)
        path = os.path.join(self.folder, name)
        with open(path + ".tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(path + ".tmp", path)
        print("mail from %s to %s -> %s" % (envelope.mail_from, ",".join(envelope.rcpt_tos), path),
              flush=True)
        return "250 Message accepted for delivery"


def main():
    ap = argparse.ArgumentParser(description="local SMTP server storing mail as .eml files")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=2525)
    ap.add_argument("--dir", default="var/mail")
    args = ap.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    controller = Controller(Catcher(args.dir), hostname=args.host, port=args.port,
                            data_size_limit=10 * 1024 * 1024)
    controller.start()
    print("mailcatcher listening on %s:%d, storing mail in %s" % (args.host, args.port, args.dir),
          flush=True)
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        loop.run_until_complete(stop.wait())
    finally:
        controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
