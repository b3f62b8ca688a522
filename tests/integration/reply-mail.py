#!/usr/bin/env python3
"""reply-mail.py - the mail side of test-pipe-reply.sh

  reply-mail.py digest MAILDIR          print "reply-to" and "N ID" lines of
                                        the newest digest in MAILDIR
  reply-mail.py reply TO TEXT OUT       an owner's reply: TEXT above a quoted
                                        copy of a digest full of numbers
  reply-mail.py forward TO ITEM OUT     a reply with ITEM attached as
                                        message/rfc822 and no text
  reply-mail.py answers MAILDIR         print each answer's text, in order
"""
import email, email.policy, os, re, sys
from email.message import EmailMessage


def messages(maildir):
    out = []
    for name in os.listdir(maildir):
        with open(os.path.join(maildir, name), 'rb') as f:
            out.append((os.stat(f.name).st_mtime_ns, name,
                        email.message_from_binary_file(f, policy=email.policy.default)))
    return [m for _, _, m in sorted(out, key=lambda t: (t[0], t[1]))]


def digest(maildir):
    ds = [m for m in messages(maildir) if m['X-Ndrguard'] == 'digest']
    m = ds[-1]
    print('reply-to', m['Reply-To'])
    text = m.get_body(('plain',)).get_content()
    for num, ident in re.findall(r'^\* \[(\d+)\].*?/item/(\d+)\?', text, re.M | re.S):
        print(num, ident)


def reply(to, text, out):
    m = EmailMessage()
    m['From'] = 'Alice <alice@example.test>'
    m['To'] = to
    m['Subject'] = 'Re: Quarantine digest'
    m['Message-ID'] = '<reply.%d@client.example.test>' % os.getpid()
    # the quoted digest: counts, times, [2] and [4]; none of it counts
    m.set_content(text + '\n\nOn Thu, 3 Dec 2026 at 16:00, postmaster wrote:\n'
                  '> 4 bounce messages were held for you between 2026-12-03 10:00 and 16:00.\n'
                  '> * [2] 2026-12-03 16:00  from mx.remote.test\n'
                  '> * [4] 2026-12-03 16:00  from mx.remote.test\n')
    open(out, 'wb').write(m.as_bytes())


def forward(to, item, out):
    m = EmailMessage()
    m['From'] = 'alice@example.test'
    m['To'] = to
    m['Subject'] = 'Fwd: held bounce'
    m['Message-ID'] = '<fwd.%d@client.example.test>' % os.getpid()
    m.set_content('Please release the attached one.\n')
    with open(item, 'rb') as f:
        inner = email.message_from_binary_file(f, policy=email.policy.default)
    m.add_attachment(inner)
    open(out, 'wb').write(m.as_bytes())


def answers(maildir):
    for m in messages(maildir):
        if m['X-Ndrguard'] == 'reply-answer':
            print('=== answer')
            print(m.get_content())


cmd = sys.argv[1]
{'digest': lambda: digest(sys.argv[2]),
 'reply': lambda: reply(*sys.argv[2:5]),
 'forward': lambda: forward(*sys.argv[2:5]),
 'answers': lambda: answers(sys.argv[2])}[cmd]()
