#!/usr/bin/env python3
"""dkim-sign.py - sign a test message with DKIM (RFC 6376), for the tests

usage: dkim-sign.py KEY.pem DOMAIN SELECTOR rsa-sha256|ed25519-sha256 < in > out

A signer of the tests' own, written from the RFC, independent of
ndrguard's checker: c=relaxed/simple, h=From:To:Subject:Date:Message-ID;
the signature is made by the openssl command line (the key comes from
openssl genpkey). The output is the message with the DKIM-Signature on
top, LF line ends.
"""
import base64
import hashlib
import re
import subprocess
import sys
import tempfile

SIGNED = ["from", "to", "subject", "date", "message-id"]


def split(msg):
    head, _, body = msg.partition("\n\n")
    fields = []
    for line in head.split("\n"):
        if line[:1] in (" ", "\t") and fields:
            fields[-1] += "\n" + line
        elif line:
            fields.append(line)
    return fields, body


def relaxed(field):
    name, _, value = field.partition(":")
    value = re.sub(r"[ \t]*\r?\n[ \t]+", " ", value)
    value = re.sub(r"[ \t]+", " ", value).strip()
    return name.strip().lower() + ":" + value


def body_hash(body):
    lines = body.split("\n")
    while lines and lines[-1] == "":
        lines.pop()
    canon = "".join(line + "\r\n" for line in lines) or "\r\n"
    return base64.b64encode(hashlib.sha256(canon.encode()).digest()).decode()


def sign(key, alg, data):
    with tempfile.NamedTemporaryFile() as f:
        if alg == "rsa-sha256":
            f.write(data)
            f.flush()
            cmd = ["openssl", "dgst", "-sha256", "-sign", key, f.name]
        else:
            f.write(hashlib.sha256(data).digest())
            f.flush()
            cmd = ["openssl", "pkeyutl", "-sign", "-rawin", "-inkey", key,
                   "-in", f.name]
        return subprocess.run(cmd, check=True, capture_output=True).stdout


def main():
    key, domain, selector, alg = sys.argv[1:5]
    msg = sys.stdin.read()
    fields, body = split(msg)
    byname = {}
    for f in fields:
        byname.setdefault(f.split(":", 1)[0].strip().lower(), []).append(f)
    signed = [n for n in SIGNED if n in byname]
    tags = ("v=1; a=%s; c=relaxed/simple; d=%s; s=%s; t=1796313600;"
            " bh=%s;\n\th=%s; b=" % (alg, domain, selector, body_hash(body),
                                     ":".join(signed)))
    data = "".join(relaxed(byname[n][-1]) + "\r\n" for n in signed)
    data += relaxed("DKIM-Signature: " + tags)
    b = base64.b64encode(sign(key, alg, data.encode())).decode()
    folded = "\n\t".join(b[i:i + 64] for i in range(0, len(b), 64))
    sys.stdout.write("DKIM-Signature: " + tags + folded + "\n" + msg)


main()
