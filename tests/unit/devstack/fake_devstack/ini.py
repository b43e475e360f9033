"""Stand-in for DevStack's inifile functions (iniset, iniget, inidelete,
ini_has_option), used by fake_devstack/functions.

Like DevStack's sed-based versions it edits the file in place, keeps every
other line as it is, treats ``[DEFAULT]`` as an ordinary section and creates
the file and the section when missing.

    ini.py set FILE SECTION KEY VALUE
    ini.py get FILE SECTION KEY        (prints the value, empty if unset)
    ini.py has FILE SECTION KEY        (exit status 0 if set, 1 if not)
    ini.py del FILE SECTION KEY
"""

import os
import re
import sys

SECTION_RE = re.compile(r'^\s*\[([^\]]+)\]\s*$')
OPTION_RE = re.compile(r'^\s*([^#;=\s][^=]*?)\s*=\s?(.*)$')


def read_lines(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return f.read().splitlines()


def find(lines, section, key):
    """Locate a section and a key in the lines of an ini file.

    Returns (index of the section header or None, index of the key or
    None, index after the section's last line).
    """
    header = option = None
    end = len(lines)
    current = None
    for i, line in enumerate(lines):
        m = SECTION_RE.match(line)
        if m:
            if current == section:
                end = i
                break
            current = m.group(1)
            if current == section:
                header = i
            continue
        if current == section and option is None:
            m = OPTION_RE.match(line)
            if m and m.group(1) == key:
                option = i
    return header, option, end


def write_lines(path, lines):
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')


def main(argv):
    op, path, section, key = argv[1:5]
    lines = read_lines(path)
    header, option, end = find(lines, section, key)
    if op == 'get':
        if option is not None:
            print(OPTION_RE.match(lines[option]).group(2))
        return 0
    if op == 'has':
        return 0 if option is not None else 1
    if op == 'del':
        if option is not None:
            del lines[option]
            write_lines(path, lines)
        return 0
    if op == 'set':
        entry = '%s = %s' % (key, argv[5])
        if option is not None:
            lines[option] = entry
        elif header is not None:
            lines.insert(end, entry)
        else:
            lines.extend(['[%s]' % section, entry])
        write_lines(path, lines)
        return 0
    raise SystemExit('unknown operation %s' % op)


if __name__ == '__main__':
    sys.exit(main(sys.argv))
