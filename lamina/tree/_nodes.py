"""What counts as a node of a nested structure, its children, and how to rebuild it.

Nodes are exactly Keras' containers: `list`, `tuple`, namedtuples (and other struct sequences
such as `torch.return_types`), `collections.deque`, and `dict`, `OrderedDict`, `defaultdict`.
Everything else is a leaf: None, numbers, strings, sets, NumPy arrays, torch tensors,
`torch.Size`, and subclasses of list/tuple/dict that are not namedtuples.
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict, deque
from typing import Any

# The kind of a node, which decides which structures match it: a dict, an OrderedDict and a
# defaultdict are all "mapping" and match each other; sequences must have the same type.
MAPPING = "mapping"
SEQUENCE = "sequence"

_MAPPING_TYPES = (dict, OrderedDict, defaultdict)
_SEQUENCE_TYPES = (list, tuple, deque)


def is_namedtuple(value: Any) -> bool:
    """A namedtuple, a `typing.NamedTuple` or a struct sequence (`torch.return_types.max`)."""
    cls = type(value)
    if not isinstance(value, tuple) or cls is tuple:
        return False
    return hasattr(cls, "_fields") or hasattr(cls, "n_sequence_fields")


def node_kind(value: Any) -> str | None:
    """MAPPING, SEQUENCE, or None for a leaf."""
    cls = type(value)
    if cls in _MAPPING_TYPES:
        return MAPPING
    if cls in _SEQUENCE_TYPES or is_namedtuple(value):
        return SEQUENCE
    return None


def sorted_keys(mapping: dict[Any, Any]) -> list[Any]:
    """The order a mapping's values are flattened in: insertion order for an OrderedDict,
    sorted keys for a dict or defaultdict (so the order does not depend on how it was built)."""
    if type(mapping) is OrderedDict:
        return list(mapping)
    try:
        return sorted(mapping)
    except TypeError as error:
        raise TypeError(
            f"Nested structures flatten a dict by its sorted keys, and these keys cannot be "
            f"sorted: {list(mapping)!r} ({error}). Use keys of one type, or an OrderedDict."
        ) from None


def children(node: Any) -> list[tuple[Any, Any]]:
    """(key, child) pairs in flattening order: dict keys, or positions in a sequence."""
    if node_kind(node) == MAPPING:
        return [(key, node[key]) for key in sorted_keys(node)]
    return list(enumerate(node))


def rebuild(node: Any, values: list[Any]) -> Any:
    """A node of the same type as `node` holding `values` (in flattening order). A dict keeps
    the key order of `node`; a defaultdict its factory; a deque its maxlen."""
    cls = type(node)
    if cls in _MAPPING_TYPES:
        by_key = dict(zip(sorted_keys(node), values, strict=True))
        items = [(key, by_key[key]) for key in node]
        if cls is defaultdict:
            return defaultdict(node.default_factory, items)
        return cls(items)
    if cls is deque:
        return deque(values, maxlen=node.maxlen)
    if hasattr(cls, "_fields"):
        return cls(*values)
    return cls(values)


def describe(value: Any) -> str:
    """'a list of length 2', 'a dict with keys ['a', 'b']', 'a leaf (int)' for messages."""
    kind = node_kind(value)
    name = type(value).__name__
    if kind is None:
        return f"a leaf ({name})"
    if kind == MAPPING:
        return f"a {name} with keys {sorted_keys(value)!r}"
    return f"a {name} of length {len(value)}"


def mismatch(a: Any, b: Any, path: tuple[Any, ...]) -> str | None:
    """Why nodes `a` and `b` at `path` do not have the same layout; None when they do (leaves
    are not compared). The message is the same phrase Keras uses, with the details."""
    kind_a, kind_b = node_kind(a), node_kind(b)
    if kind_a is None and kind_b is None:
        return None
    problem = None
    if kind_a != kind_b:
        problem = "a different nesting"
    elif kind_a == MAPPING:
        if set(a) != set(b):
            problem = "different keys"
    elif type(a) is not type(b):
        same_name = type(a).__name__ == type(b).__name__
        problem = "two different classes of the same name" if same_name else "different types"
    elif len(a) != len(b):
        problem = "different lengths"
    if problem is None:
        return None
    where = f"at path {path}" if path else "at the top level"
    return (
        f"The two structures don't have the same nested structure: {problem} {where}; the "
        f"first has {describe(a)}, the other {describe(b)}."
    )
