#!/usr/bin/python3
"""Verifies the DKIM signature of a message with dkimpy (Debian python3-dkim), an
implementation independent of the one that signed it, for voxgate's mail tests.

    dkim_verify.py NAME=TXT_VALUE [NAME=TXT_VALUE ...] < MESSAGE

The TXT records a verifier would look up in DNS are given on the command line (the
`voxgate._domainkey.<domain>` record add_domain answers), so no DNS server is needed.
Prints "pass" and exits 0 when every DKIM-Signature verifies; prints "fail: ..." and exits
1 otherwise (no signature, a bad signature, an unknown record).
"""
import logging
import sys

import dkim


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    message = sys.stdin.buffer.read()
    records = {}
    for arg in sys.argv[1:]:
        name, _, value = arg.partition("=")
        records[name.rstrip(".").lower()] = value.encode()

    def dnsfunc(name, timeout=5):
        if isinstance(name, bytes):
            name = name.decode()
        return records.get(name.rstrip(".").lower())

    logging.basicConfig(level=logging.WARNING)
    verifier = dkim.DKIM(message, logger=logging.getLogger("dkim"))
    count = len([h for h in verifier.headers if h[0].lower() == b"dkim-signature"])
    if count == 0:
        print("fail: no DKIM-Signature")
        return 1
    for idx in range(count):
        if not verifier.verify(idx=idx, dnsfunc=dnsfunc):
            print(f"fail: signature {idx} does not verify")
            return 1
    print("pass")
    return 0


if __name__ == "__main__":
    sys.exit(main())
