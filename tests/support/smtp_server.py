#!/usr/bin/env python3
"""A real SMTP server for the e-mail channel's tests (issue #23), on loopback only.

aiosmtpd (Debian's python3-aiosmtpd) delivering every accepted message into a Maildir,
as a mail server would for the mailbox the IMAP side then serves. Optional AUTH and
STARTTLS. Recipients whose local part says so misbehave on purpose:
  busy@…    451 at RCPT (try again later)
  nobody@…  550 at RCPT (no such user)
Listens on --port (or a free one), prints "listening <port>" once it accepts connections;
runs until killed.
"""
import argparse
import asyncio
import mailbox
import signal
import socket
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Deliver:
    def __init__(self, maildir):
        self.maildir = mailbox.Maildir(maildir, create=True)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@")[0].lower()
        if local == "busy":
            return "451 4.3.0 mailbox busy, try again later"
        if local == "nobody":
            return "550 5.1.1 no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.maildir.add(envelope.original_content)
        return "250 2.0.0 queued"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--maildir", required=True)
    p.add_argument("--user", help="require AUTH as this user")
    p.add_argument("--password")
    p.add_argument("--cert", help="offer STARTTLS with this certificate (PEM)")
    p.add_argument("--key")
    p.add_argument("--port", type=int, default=0, help="0: a free one")
    a = p.parse_args()

    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == a.user and \
            auth_data.password.decode() == a.password
        return AuthResult(success=ok, handled=False)  # not handled: the server answers 535

    options = {}
    if a.user:
        options.update(authenticator=authenticate, auth_required=True, auth_require_tls=bool(a.cert))
    if a.cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(a.cert, a.key)
        options.update(tls_context=context, require_starttls=True)
    for attempt in range(1 if a.port else 20):
        port = a.port or free_port()
        controller = Controller(Deliver(a.maildir), hostname="127.0.0.1", port=port, **options)
        try:
            controller.start()
            break
        except (OSError, RuntimeError):
            continue
    else:
        sys.exit("smtp_server: no free port")
    print("listening %d" % port, flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    controller.stop()


if __name__ == "__main__":
    main()
