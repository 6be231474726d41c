#!/usr/bin/python3
"""The public surface of the original Python DosNa's package, read from its
source without importing it (so none of its dependencies are needed):
every module, and in each the names a script can import -- functions,
classes, module attributes and what it imports from the rest of dosna --
plus the public members each class defines (Class.member). Names starting
with '_' are private and left out.

  original_surface.py ORIGINAL_SRC > tests/python/original_surface.txt

regenerates the list test_original_surface.py checks this package against.
"""

import ast
import os
import sys


def _module_name(root, path):
    parts = os.path.relpath(path, root)[:-len('.py')].split(os.sep)
    if parts[-1] == '__init__':
        parts = parts[:-1]
    return '.'.join(parts)


def _public(name):
    return not name.startswith('_')


def _module_names(tree):
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
            if isinstance(node, ast.ClassDef):
                for member in node.body:
                    if isinstance(member, ast.FunctionDef):
                        names.add(node.name + '.' + member.name)
                    elif isinstance(member, ast.Assign):
                        names.update(node.name + '.' + t.id for t in member.targets
                                     if isinstance(t, ast.Name))
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
        elif isinstance(node, ast.ImportFrom) and (node.module or '').split('.')[0] == 'dosna':
            names.update(a.asname or a.name for a in node.names)
    return {n for n in names if all(_public(p) for p in n.split('.'))}


def surface(root):
    """{module: set of names} of the package dosna/ under `root`."""
    out = {}
    for directory, _, files in os.walk(os.path.join(root, 'dosna')):
        for name in files:
            if name.endswith('.py'):
                path = os.path.join(directory, name)
                with open(path) as f:
                    tree = ast.parse(f.read(), path)
                out[_module_name(root, path)] = _module_names(tree)
    return out


def lines(root):
    """The surface as text lines: 'module' alone, then 'module name' each."""
    out = []
    for module, names in sorted(surface(root).items()):
        out.append(module)
        out.extend('{} {}'.format(module, n) for n in sorted(names))
    return out


if __name__ == '__main__':
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    print('\n'.join(lines(sys.argv[1])))
