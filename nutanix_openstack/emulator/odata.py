"""A small OData subset for ``$filter`` and ``$orderby``.

Supported: ``eq``, ``ne``, ``and``, ``or``, ``not``, parentheses,
``startswith(field, 'x')``, ``contains(field, 'x')``, ``field in ('a', 'b')``
on top-level fields (and ``a/b`` paths into nested dicts).  Literals are
single-quoted strings (``''`` escapes a quote), numbers, ``true``,
``false`` and ``null``.  Anything else is a :class:`errors.BadRequest`,
as the real API rejects filters it cannot parse.
"""

import re

from nutanix_openstack.emulator import errors

_TOKEN_RE = re.compile(r"""
    \s*(?:
      (?P<str>'(?:[^']|'')*')
    | (?P<num>-?\d+(?:\.\d+)?)
    | (?P<punct>[(),])
    | (?P<word>[A-Za-z_$][A-Za-z0-9_$/.]*)
    )""", re.VERBOSE)

_KEYWORDS = {'eq', 'ne', 'and', 'or', 'not', 'in', 'true', 'false', 'null'}


def _tokenize(text):
    tokens = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN_RE.match(text, pos)
        if not match or match.end() == pos:
            raise errors.BadRequest("Invalid $filter near %r" % text[pos:])
        pos = match.end()
        if match.group('str') is not None:
            tokens.append(('lit', match.group('str')[1:-1].replace("''", "'")))
        elif match.group('num') is not None:
            num = match.group('num')
            tokens.append(('lit', float(num) if '.' in num else int(num)))
        elif match.group('punct') is not None:
            tokens.append(('punct', match.group('punct')))
        else:
            word = match.group('word')
            if word in ('true', 'false'):
                tokens.append(('lit', word == 'true'))
            elif word == 'null':
                tokens.append(('lit', None))
            elif word in _KEYWORDS:
                tokens.append(('kw', word))
            else:
                tokens.append(('field', word))
        # trailing whitespace
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return tokens


def field_value(body, path):
    value = body
    for part in path.replace('.', '/').split('/'):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


class _Parser(object):

    def __init__(self, tokens):
        self.tokens = tokens
        self.pos = 0

    def peek(self):
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, kind=None, value=None):
        tok = self.peek()
        if tok is None or (kind and tok[0] != kind) or (
                value is not None and tok[1] != value):
            raise errors.BadRequest(
                "Invalid $filter: expected %s got %r" % (value or kind, tok))
        self.pos += 1
        return tok

    def parse(self):
        expr = self.expr_or()
        if self.peek() is not None:
            raise errors.BadRequest("Invalid $filter: trailing %r"
                                    % (self.peek(),))
        return expr

    def expr_or(self):
        left = self.expr_and()
        while self.peek() == ('kw', 'or'):
            self.take()
            right = self.expr_and()
            left = (lambda a, b: lambda d: a(d) or b(d))(left, right)
        return left

    def expr_and(self):
        left = self.expr_not()
        while self.peek() == ('kw', 'and'):
            self.take()
            right = self.expr_not()
            left = (lambda a, b: lambda d: a(d) and b(d))(left, right)
        return left

    def expr_not(self):
        if self.peek() == ('kw', 'not'):
            self.take()
            inner = self.expr_not()
            return lambda d: not inner(d)
        return self.atom()

    def atom(self):
        tok = self.peek()
        if tok == ('punct', '('):
            self.take()
            inner = self.expr_or()
            self.take('punct', ')')
            return inner
        if tok and tok[0] == 'field' and tok[1] in ('startswith',
                                                    'contains'):
            func = self.take()[1]
            self.take('punct', '(')
            field = self.take('field')[1]
            self.take('punct', ',')
            lit = self.take('lit')[1]
            self.take('punct', ')')
            if func == 'startswith':
                return lambda d: isinstance(field_value(d, field), str) and \
                    field_value(d, field).startswith(lit)
            return lambda d: isinstance(field_value(d, field), str) and \
                lit in field_value(d, field)
        field = self.take('field')[1]
        op = self.take('kw')[1]
        if op == 'in':
            self.take('punct', '(')
            values = [self.take('lit')[1]]
            while self.peek() == ('punct', ','):
                self.take()
                values.append(self.take('lit')[1])
            self.take('punct', ')')
            return lambda d: field_value(d, field) in values
        lit = self.take('lit')[1]
        if op == 'eq':
            return lambda d: field_value(d, field) == lit
        if op == 'ne':
            return lambda d: field_value(d, field) != lit
        raise errors.BadRequest("Unsupported $filter operator %r" % op)


def compile_filter(text):
    """Return a predicate ``f(body) -> bool`` for an OData filter."""
    if not text or not text.strip():
        return lambda d: True
    return _Parser(_tokenize(text)).parse()


def sort_items(items, orderby):
    """Sort by ``"field [asc|desc]"`` (comma-separated keys allowed)."""
    if not orderby:
        return items
    keys = [k.strip() for k in orderby.split(',') if k.strip()]
    for key in reversed(keys):
        parts = key.split()
        if len(parts) > 2 or (len(parts) == 2 and
                              parts[1].lower() not in ('asc', 'desc')):
            raise errors.BadRequest("Invalid $orderby %r" % orderby)
        field = parts[0]
        reverse = len(parts) == 2 and parts[1].lower() == 'desc'
        # None sorts first; numbers before strings so keys always compare.
        items = sorted(items, reverse=reverse,
                       key=lambda d, f=field: _sort_key(field_value(d, f)))
    return items


def _sort_key(value):
    if value is None:
        return (0, 0, '')
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (1, 0, value)
    return (1, 1, str(value))
