"""User info out of URLs: no password in a log line, a repr or a message.

A password may be written inside an endpoint URL
(``https://user:pass@host:9440``).  Every URL this project logs or prints is
built from an endpoint without its user info; the adapters use
:func:`strip_userinfo` for the configured endpoints they print.  This module
imports nothing heavy: the Glance store's import must stay cheap.
"""

import urllib.parse


def split_userinfo(url):
    """``(url without user:password@, username or None, password or None)``.

    A password written inside an endpoint URL must never reach a log line,
    an exception message or a repr: every URL this client prints is built
    from the endpoint without its user info.
    """
    bare = '://' not in url     # host[:port] written without a scheme
    parts = urllib.parse.urlsplit('//' + url if bare else url)
    if '@' not in parts.netloc:
        return url, None, None
    userinfo, _, hostport = parts.netloc.rpartition('@')
    user, sep, password = userinfo.partition(':')
    clean = urllib.parse.urlunsplit(parts._replace(netloc=hostport))
    if bare:
        clean = clean[2:]
    return (clean, urllib.parse.unquote(user) or None,
            urllib.parse.unquote(password) if sep else None)


def strip_userinfo(url):
    """``url`` without its ``user:password@`` part, for logs and messages."""
    if not isinstance(url, str) or '@' not in url:
        return url
    try:
        return split_userinfo(url)[0]
    except ValueError:
        return '<unparsable URL>'
