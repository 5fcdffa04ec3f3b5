"""Where the whole model is: a module recognised as a model family, or the one such file of a folder.

A module (a ``.py`` file or a module name) is the whole model of the family whose structure it has
(:mod:`gptspec.ecosystem.families`; ``--family NAME`` names it), else the spec's functions it
defines. A folder (``gptspec verify mingpt/``, ``gptspec verify nanoGPT/``) is searched for its
whole model: a package folder (one with ``__init__.py``, as minGPT's ``mingpt/``) through its own
modules, each imported as part of the package (``mingpt.model``) so that its imports of its
siblings work as they do for its users; a plain folder (a clone of nanoGPT or picoGPT) through the
``.py`` files directly in it. A package imported by name (``gptspec verify mingpt``) that is no
model itself is searched the same way.

Only files that *define* things are imported. A file whose top level does anything else is a
program, and importing it would run it (nanoGPT's ``train.py`` trains, ``sample.py`` loads a
checkpoint): it is passed over, read (with :mod:`ast`) but never executed. A top level that
defines has only imports, ``def`` and ``class``, assignments, docstrings, an
``if __name__ == "__main__":`` block (not run on import), and ``if``/``try`` blocks made of the same.

Of the files imported, the one a family recognises is the target, and the report's "recognised"
line says which file it was. None, or several (picoGPT's ``gpt2.py`` and ``gpt2_pico.py`` are each
a whole model), is a :class:`~gptspec.target.TargetError` naming each file and what became of it.
"""

from __future__ import annotations

import ast
import os
import types

from .target import MODULE_ENTRY_POINTS, SPEC_NAMES, Target, TargetError, _import_failure, _load_in_package
from .target import _load_path
from .target import _provided_target, provided

__all__ = ["defines_only", "candidates", "model_of_module", "model_in_folder"]


def _recognised(module: types.ModuleType, label: str, family: str | None) -> Target | None:
    """``module`` as the whole model of its family (its spec functions, and the entry points it
    has: ``generate``), or None if no family recognises it."""
    from .ecosystem import families

    try:
        found = families.recognise(module, label, family)
    except families.NoFamily as exc:
        raise TargetError(str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - building the user's model raised: say how, and where
        raise _import_failure(f"{label} (its model)", exc) from None
    if found is None:
        return None
    own = tuple(n for n in (*families.ENTRY_POINTS, *MODULE_ENTRY_POINTS) if callable(getattr(found.model, n, None)))
    return Target(found.model, label, provided(found.model) + own)


def model_of_module(module: types.ModuleType, label: str, family: str | None) -> Target:
    """A module as a whole model of the family it belongs to, else as the spec's functions it
    provides; a module that is neither says which families it was tried as and what each missed."""
    from .ecosystem import families

    found = _recognised(module, label, family)
    if found is not None:
        return found
    if provided(module) or family == "none":
        return _provided_target(module, label)
    tried = "; ".join(families.misses(module))
    raise TargetError(f"{label} provides none of the spec's functions ({', '.join(SPEC_NAMES)}) and is no model "
                      f"family gptspec knows: {tried}")

_DEFINITIONS = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Assign,
                ast.AnnAssign, ast.Pass)


def _is_main_guard(test: ast.expr) -> bool:
    """``__name__ == "__main__"`` (either way round)."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return False
    sides = [test.left, *test.comparators]
    return (any(isinstance(s, ast.Name) and s.id == "__name__" for s in sides)
            and any(isinstance(s, ast.Constant) and s.value == "__main__" for s in sides))


def _defines(statements: list[ast.stmt]) -> bool:
    for node in statements:
        if isinstance(node, _DEFINITIONS):
            continue
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):  # a docstring
            continue
        if isinstance(node, ast.If):
            if _is_main_guard(node.test) or (_defines(node.body) and _defines(node.orelse)):
                continue
            return False
        if isinstance(node, ast.Try):
            if all(_defines(part) for part in (node.body, node.orelse, node.finalbody,
                                               *(h.body for h in node.handlers))):
                continue
            return False
        return False
    return True


def defines_only(path: str) -> bool:
    """Whether the file at ``path`` only defines things at its top level (importing it runs no program);
    False for a file that does not parse."""
    try:
        with open(path, "rb") as file:
            tree = ast.parse(file.read(), filename=path)
    except (OSError, SyntaxError, ValueError):
        return False
    return _defines(tree.body)


def candidates(folder: str) -> tuple[list[str], list[str]]:
    """The ``.py`` files directly in ``folder`` that define only (in name order, ``__init__.py`` and
    ``__main__.py`` left out), and those passed over as programs."""
    names = sorted(n for n in os.listdir(folder) if n.endswith(".py") and n not in ("__init__.py", "__main__.py"))
    files = [os.path.join(folder, n) for n in names if os.path.isfile(os.path.join(folder, n))]
    kept = [f for f in files if defines_only(f)]
    return kept, [f for f in files if f not in kept]


def model_in_folder(folder: str, label: str, family: str | None) -> Target:
    """The whole model of the one file in ``folder`` a model family recognises (``family``: that one),
    each file imported as part of its package where the folder is one; TargetError for none or several."""
    package = os.path.isfile(os.path.join(folder, "__init__.py"))
    kept, programs = candidates(folder)
    found: list[tuple[str, Target]] = []
    missed: list[str] = []
    for path in kept:
        name = os.path.basename(path)
        try:
            module = _load_in_package(path, os.path.abspath(path)) if package else _load_path(path)
            target = _recognised(module, label, family)
        except TargetError as exc:
            missed.append(f"{name} ({exc})")
            continue
        if target is None:
            missed.append(f"{name} (no family's structure)")
        else:
            found.append((name, target))
    if len(found) == 1:
        name, target = found[0]
        text = getattr(target.obj, "GPTSPEC_FAMILY", None)
        if isinstance(text, str):  # "recognised nanoGPT's GPT in model.py: ..."
            head, sep, rest = text.partition(":")
            try:
                target.obj.GPTSPEC_FAMILY = f"{head} in {name}{sep}{rest}"
            except AttributeError:
                pass
        return target
    if found:
        names = ", ".join(n for n, _ in found)
        raise TargetError(f"{label} holds several whole models ({names}): name the file to verify, e.g. "
                          f"gptspec verify {os.path.join(folder, found[0][0])}")
    said = [f"imported, none a whole model: {', '.join(missed)}"] if missed else ["no Python module that only defines things"]
    if programs:
        said.append(f"passed over as programs (importing them would run them): "
                    f"{', '.join(os.path.basename(p) for p in programs)}")
    hint = f"; verify one file to see what each family looks for (gptspec verify {os.path.join(folder, 'FILE.py')})"
    raise TargetError(f"{label} holds no whole model a family recognises: {'; '.join(said)}" + (hint if missed else ""))
