#!/usr/bin/env python3
"""A small SMTP submission server (RFC 6409) for voxgate's mail tests, on aiosmtpd.

Two listeners on --host:
  --starttls-port  plain text, STARTTLS offered; AUTH (PLAIN, LOGIN) only after STARTTLS
  --tls-port       TLS from the first byte (RFC 8314); AUTH right away
Both require AUTH before MAIL (530 otherwise) and check logins against --users, a file of
"user:password" lines.

Recipients steer the outcome, so tests can provoke each class of failure:
  reject-*@...  550 5.1.1 at RCPT (permanent)
  defer-*@...   451 4.3.0 at RCPT (transient)
  slow-*@...    450 4.7.28 at RCPT (transient: the sender is rate limited, as Gmail says it)
  anything else is accepted.

An accepted message is delivered, as received, into the Maildir
--maildir-root/<recipient lower-cased>/new/ of every envelope recipient (written to tmp/,
then renamed, as Maildir readers expect), and one JSON line is appended to --log:
{"mail_from", "rcpt_tos", "auth_user", "size", "message_id"}.

"ready" is printed on stdout once both listeners accept connections.
"""

import argparse
import asyncio
import email.parser
import itertools
import json
import logging
import os
import signal
import socket
import ssl
import sys
import time
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

_COUNTER = itertools.count()


def load_users(path):
    """user:password lines (blank lines and # comments ignored) as a dict."""
    users = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\r\n")
            if not line or line.startswith("#"):
                continue
            user, _, password = line.partition(":")
            users[user] = password
    return users


class Authenticator:
    """Checks AUTH PLAIN / LOGIN credentials against the users file."""

    def __init__(self, users):
        self.users = users

    def __call__(self, server, session, envelope, mechanism, auth_data):
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user = auth_data.login.decode("utf-8", "replace")
        password = auth_data.password.decode("utf-8", "replace")
        ok = user in self.users and self.users[user] == password
        return AuthResult(success=ok, handled=False, auth_data=user if ok else None)


class Maildirs:
    """Delivery into one Maildir per recipient, and the JSON log."""

    def __init__(self, root, log_path):
        self.root = root
        self.log_path = log_path

    def deliver(self, address, data):
        folder = os.path.join(self.root, address.lower())
        for sub in ("tmp", "new", "cur"):
            os.makedirs(os.path.join(folder, sub), exist_ok=True)
        name = "%d.P%dQ%d.%s" % (
            time.time_ns(), os.getpid(), next(_COUNTER), socket.gethostname() or "localhost"
        )
        tmp = os.path.join(folder, "tmp", name)
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, os.path.join(folder, "new", name))

    def log(self, entry):
        with open(self.log_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry, sort_keys=True) + "\n")


class Handler:
    """aiosmtpd hooks: recipient policy at RCPT, delivery at DATA."""

    def __init__(self, maildirs):
        self.maildirs = maildirs

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0].lower()
        if local.startswith("reject-"):
            return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
        if local.startswith("defer-"):
            return "451 4.3.0 Try again later"
        if local.startswith("slow-"):
            return "450 4.7.28 Our system has detected an unusual rate of mail, rate limited"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        data = envelope.original_content or envelope.content
        if isinstance(data, str):
            data = data.encode("utf-8")
        for rcpt in envelope.rcpt_tos:
            self.maildirs.deliver(rcpt, data)
        headers = email.parser.BytesHeaderParser().parsebytes(data)
        message_id = headers.get("Message-ID")
        self.maildirs.log(
            {
                "mail_from": envelope.mail_from,
                "rcpt_tos": list(envelope.rcpt_tos),
                "auth_user": session.auth_data if session.authenticated else None,
                "size": len(data),
                "message_id": str(message_id).strip() if message_id else None,
            }
        )
        return "250 2.0.0 Ok: queued as %d" % next(_COUNTER)


def tls_context(cert, key):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    return context


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--starttls-port", type=int, required=True)
    parser.add_argument("--tls-port", type=int, required=True)
    parser.add_argument("--cert", required=True, help="server certificate (PEM)")
    parser.add_argument("--key", required=True, help="server private key (PEM)")
    parser.add_argument("--users", required=True, help="file of user:password lines")
    parser.add_argument("--maildir-root", required=True)
    parser.add_argument("--log", required=True, help="JSON lines, one per accepted message")
    return parser.parse_args(argv)


async def serve(args):
    context = tls_context(args.cert, args.key)
    authenticator = Authenticator(load_users(args.users))
    handler = Handler(Maildirs(args.maildir_root, args.log))
    loop = asyncio.get_running_loop()

    def starttls_session():
        return SMTP(
            handler,
            hostname="localhost",
            tls_context=context,
            auth_required=True,
            auth_require_tls=True,
            authenticator=authenticator,
        )

    def tls_session():
        # The whole connection is TLS already: aiosmtpd only knows about its own STARTTLS,
        # so auth_require_tls would refuse AUTH here.
        return SMTP(
            handler,
            hostname="localhost",
            auth_required=True,
            auth_require_tls=False,
            authenticator=authenticator,
        )

    servers = [
        await loop.create_server(starttls_session, args.host, args.starttls_port),
        await loop.create_server(tls_session, args.host, args.tls_port, ssl=context),
    ]
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print("ready", flush=True)
    await stop.wait()
    for server in servers:
        server.close()
        await server.wait_closed()


def main(argv):
    # aiosmtpd warns about auth_require_tls=False on the implicit-TLS port; that is intended.
    warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    asyncio.run(serve(parse_args(argv)))


if __name__ == "__main__":
    main(sys.argv[1:])
