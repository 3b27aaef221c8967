"""YAML loading that remembers the line of every key and item, for error messages.

Every YAML input (case files, policy books, suites, decision policies) comes through here, so
this is where YAML's hazards are bounded before anything expands them:

- aliases: an anchor reused by aliases that reuse anchors ("billion laughs") is a few lines
  that expand to billions of nodes. The composed node graph shares the aliased nodes, so its
  expanded size is computed without expanding (memoised per node); more than
  `MAX_ALIAS_NODES` nodes added by aliases, or an alias inside its own anchor, is an error.
- nesting deeper than `MAX_DEPTH` (every later step that walks the data is recursive);
- duplicate keys in one mapping (YAML says they are an error; PyYAML keeps the last silently);
- integers longer than `MAX_INT_DIGITS` (Python refuses to convert more than 4,300 digits,
  and hexadecimal ones convert but cannot be printed back);
- files larger than `MAX_YAML_BYTES`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from evals.bounded_json import MAX_INT_DIGITS
from evals.errors import InputError
from evals.input_paths import file_problem

LineMap = dict[tuple[int | str, ...], int]

#: libyaml's safe loader when PyYAML was built with it (10x faster), else the pure one.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

#: Nodes that aliases may add to a document beyond the nodes written out in it.
MAX_ALIAS_NODES = 10_000
#: Deepest nesting of mappings and sequences accepted in one document.
MAX_DEPTH = 100
#: Largest YAML file read (the text and its node tree are held in memory at once).
MAX_YAML_BYTES = 64 * 1024 * 1024

_INT_TAG = "tag:yaml.org,2002:int"
_MERGE_TAG = "tag:yaml.org,2002:merge"


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _check_mapping(path: Path, node: yaml.MappingNode) -> None:
    seen: dict[tuple[str, str], int] = {}
    for key_node, _ in node.value:
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _MERGE_TAG:
            continue
        key = (key_node.tag, key_node.value)
        if key in seen:
            raise InputError.single(
                path,
                f"duplicate key '{key_node.value}' (first at line {seen[key]}); "
                "a mapping may name each key once",
                line=_line(key_node),
                field=str(key_node.value)[:80],
            )
        seen[key] = _line(key_node)


def _check_scalar(path: Path, node: yaml.ScalarNode) -> None:
    if node.tag == _INT_TAG and len(node.value) > MAX_INT_DIGITS:
        raise InputError.single(
            path,
            f"integer of {len(node.value)} characters (at most {MAX_INT_DIGITS} digits are "
            "accepted; quote it if it is an identifier)",
            line=_line(node),
        )


def check_node_graph(path: Path, root: yaml.Node) -> None:
    """Raise InputError if the document nests too deep, expands too much through aliases,
    repeats a key or holds an integer too long to convert. Iterative and linear in the nodes
    written in the file: it never expands an alias."""
    size: dict[int, int] = {}  # expanded size of each finished node, by id
    on_path: set[int] = set()
    distinct = 0
    # (node, depth, its children once they are entered, else None)
    stack: list[tuple[yaml.Node, int, list[yaml.Node] | None]] = [(root, 1, None)]
    while stack:
        node, depth, entered = stack.pop()
        ident = id(node)
        if entered is not None:
            on_path.discard(ident)
            total = 1 + sum([size[id(child)] for child in entered])
            size[ident] = total
            if total - distinct > MAX_ALIAS_NODES:
                raise InputError.single(
                    path,
                    f"aliases expand the node at this line to {total:,} nodes, more than the "
                    f"{MAX_ALIAS_NODES:,} that aliases may add to a document; write the data "
                    "out instead",
                    line=_line(node),
                )
            continue
        if ident in on_path:
            raise InputError.single(
                path, "an alias refers to its own anchor (a recursive structure)", line=_line(node)
            )
        if ident in size:
            continue  # an alias of a node already checked: its size is known
        if depth > MAX_DEPTH:
            raise InputError.single(
                path, f"nested deeper than {MAX_DEPTH} levels", line=_line(node)
            )
        distinct += 1
        if isinstance(node, yaml.ScalarNode):
            _check_scalar(path, node)
            size[ident] = 1
            continue
        if isinstance(node, yaml.MappingNode):
            _check_mapping(path, node)
        children = _children(node)
        on_path.add(ident)
        stack.append((node, depth, children))
        stack.extend([(child, depth + 1, None) for child in reversed(children)])


def _unconstructable(root: yaml.Node) -> yaml.ScalarNode | None:
    """The first scalar the safe constructor refuses (only looked for once loading failed)."""
    stack, seen = [root], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            try:
                yaml.SafeLoader("").construct_object(node)
            except Exception:
                return node
        stack.extend(reversed(_children(node)))
    return None


def _walk(node: yaml.Node, path: tuple[int | str, ...], lines: LineMap) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
            lines[(*path, key)] = key_node.start_mark.line + 1
            _walk(value_node, (*path, key), lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, index), lines)


def load_yaml(path: Path) -> tuple[Any, LineMap]:
    """Parse one YAML document; return the data and a map from key paths to 1-based lines."""
    problem = file_problem(path)
    if problem is not None:
        raise InputError.single(path, problem)
    try:
        if path.stat().st_size > MAX_YAML_BYTES:
            raise InputError.single(
                path, f"larger than {MAX_YAML_BYTES // 2**20} MiB; split it into several files"
            )
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError.single(path, f"cannot read file: {exc}") from None
    # One parse (libyaml when available): the node tree gives the lines, then the data.
    loader = _LOADER(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            check_node_graph(path, node)
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        line = mark.line + 1 if mark is not None else None
        raise InputError.single(path, f"invalid YAML: {problem}", line=line) from None
    except RecursionError:
        raise InputError.single(path, f"nested deeper than {MAX_DEPTH} levels") from None
    except Exception as exc:  # the safe constructor only builds plain values: a bad scalar
        # (a date like 2024-13-45, `!!timestamp x`, `!!binary` that is not base64, ...)
        assert node is not None  # construction failed, so there was a node
        bad = _unconstructable(node)
        value = f" '{str(bad.value)[:60]}'" if bad is not None else ""
        raise InputError.single(
            path,
            f"invalid YAML value{value}: {exc}",
            line=_line(bad) if bad is not None else None,
        ) from None
    finally:
        loader.dispose()
    lines: LineMap = {}
    if node is not None:
        _walk(node, (), lines)
    return data, lines
