"""Nested structures, as `keras.tree`: flatten, map and repack lists, tuples, namedtuples,
deques and dicts whose leaves are anything else (numbers, None, arrays, torch tensors).

Dicts flatten by sorted key (an OrderedDict in its own order), so a structure built in any
order flattens the same way; a rebuilt dict keeps the key order of the structure it copies.

>>> import lamina
>>> lamina.tree.flatten({"b": [2, 3], "a": (1,)})
[1, 2, 3]
>>> lamina.tree.map_structure(lambda x: x * 10, {"b": [2, 3], "a": (1,)})
{'b': [20, 30], 'a': (10,)}
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from ._nodes import children, mismatch, node_kind, rebuild

__all__ = [
    "MAP_TO_NONE",
    "assert_same_paths",
    "assert_same_structure",
    "flatten",
    "flatten_with_path",
    "is_nested",
    "lists_to_tuples",
    "map_shape_structure",
    "map_structure",
    "map_structure_up_to",
    "pack_sequence_as",
    "traverse",
]


class MAP_TO_NONE:  # noqa: N801 (Keras' name)
    """Return this class from a `traverse` function to put None in place of a sub-structure."""


def is_nested(structure: Any) -> bool:
    """True for a list, tuple, namedtuple, deque or dict (of any kind); False for a leaf.

    >>> is_nested({"foo": 42}), is_nested(42), is_nested("text")
    (True, False, False)
    """
    return node_kind(structure) is not None


def flatten(structure: Any) -> list[Any]:
    """The leaves of `structure` in order, dicts by sorted key; a leaf gives `[leaf]`.

    >>> flatten([[1, 2, 3], [4, [5], [[6]]]])
    [1, 2, 3, 4, 5, 6]
    >>> flatten(None), flatten({100: "world!", 6: "Hello"})
    ([None], ['Hello', 'world!'])
    """
    if node_kind(structure) is None:
        return [structure]
    return [leaf for _, child in children(structure) for leaf in flatten(child)]


def flatten_with_path(structure: Any) -> list[tuple[tuple[Any, ...], Any]]:
    """`(path, leaf)` pairs in `flatten`'s order; a path holds the dict keys and sequence
    positions (namedtuples by position) that lead to the leaf.

    >>> flatten_with_path([{"foo": 42}])
    [((0, 'foo'), 42)]
    """
    if node_kind(structure) is None:
        return [((), structure)]
    return [
        ((key, *path), leaf)
        for key, child in children(structure)
        for path, leaf in flatten_with_path(child)
    ]


def _check_callable(func: Any, caller: str) -> None:
    if not callable(func):
        raise TypeError(f"{caller} needs a callable `func`; got {func!r}")


def _map(
    func: Callable[..., Any], structures: tuple[Any, ...], none_is_leaf: bool, path: tuple
) -> Any:
    first = structures[0]
    if not none_is_leaf and first is None:
        if any(other is not None for other in structures[1:]):
            raise ValueError(
                f"The structures don't have the same nested structure: at path {path} the "
                f"first has None, which none_is_leaf=False skips, the others {structures[1:]!r}"
            )
        return None
    if node_kind(first) is None:
        for other in structures[1:]:
            problem = mismatch(first, other, path)
            if problem is not None or (not none_is_leaf and other is None):
                raise ValueError(
                    problem
                    or f"The structures don't have the same nested structure: at path "
                    f"{path} the first has {first!r}, another None (none_is_leaf=False)."
                )
        return func(*structures)
    for other in structures[1:]:
        problem = mismatch(first, other, path)
        if problem is not None:
            raise ValueError(problem)
    mapped = [
        _map(func, (child, *(other[key] for other in structures[1:])), none_is_leaf, (*path, key))
        for key, child in children(first)
    ]
    return rebuild(first, mapped)


def map_structure(func: Callable[..., Any], *structures: Any, none_is_leaf: bool = True) -> Any:
    """Apply `func` to the leaves of one or more structures of the same layout; the result has
    the first structure's layout (dict, OrderedDict and defaultdict match one another).

    Args:
        func: a callable taking as many arguments as there are structures.
        *structures: nested structures of one layout.
        none_is_leaf: True passes None leaves to `func`; False keeps them as None (then
            every structure must have None there).

    >>> map_structure(lambda x, y: x * y, [[1], [2], [3]], [[1], [2], [3]])
    [[1], [4], [9]]
    """
    _check_callable(func, "map_structure")
    if not structures:
        raise ValueError("map_structure: must provide at least one structure")
    return _map(func, structures, none_is_leaf, ())


def _map_up_to(shallow: Any, func: Callable[..., Any], structures: tuple, path: tuple) -> Any:
    if node_kind(shallow) is None:
        return func(*structures)
    for structure in structures:
        problem = mismatch(shallow, structure, path)
        if problem is not None:
            raise ValueError(problem.replace("the first", "shallow_structure"))
    mapped = [
        _map_up_to(child, func, tuple(s[key] for s in structures), (*path, key))
        for key, child in children(shallow)
    ]
    return rebuild(shallow, mapped)


def map_structure_up_to(shallow_structure: Any, func: Callable[..., Any], *structures: Any) -> Any:
    """`map_structure` down to the leaves of `shallow_structure` only: `func` receives the
    (possibly nested) parts of `structures` found there; the result has its layout.

    >>> map_structure_up_to([None, None], len, [[1, 1], [2, 2]])
    [2, 2]
    >>> map_structure_up_to([None, [None, None]], str, [[1, 1], [2, 2]])
    ['[1, 1]', ['2', '2']]
    """
    _check_callable(func, "map_structure_up_to")
    if not structures:
        raise ValueError("map_structure_up_to: must provide at least one structure")
    return _map_up_to(shallow_structure, func, structures, ())


def _assert_same(a: Any, b: Any, path: tuple) -> None:
    problem = mismatch(a, b, path)
    if problem is not None:
        raise ValueError(problem)
    if node_kind(a) is not None:
        for key, child in children(a):
            _assert_same(child, b[key], (*path, key))


def assert_same_structure(a: Any, b: Any, check_types: bool | None = None) -> None:
    """Raise ValueError unless `a` and `b` nest the same way: the same node types at the same
    places (any dict kinds match; list, tuple, deque and each namedtuple class do not), the
    same lengths and keys. Leaves may differ.

    Args:
        a, b: nested structures.
        check_types: deprecated in Keras and without effect; use `assert_same_paths` for a
            check that ignores the container types.

    >>> assert_same_structure([(0, 1)], [(2, 3)])
    >>> assert_same_structure([0, 1], (2, 3))
    Traceback (most recent call last):
        ...
    ValueError: The two structures don't have the same nested structure: different types at \
the top level; the first has a list of length 2, the other a tuple of length 2.
    """
    if check_types is not None:
        hint = "" if check_types else "; for a looser check use lamina.tree.assert_same_paths"
        warnings.warn(
            f"The `check_types` argument is deprecated and has no effect{hint}",
            DeprecationWarning,
            stacklevel=2,
        )
    _assert_same(a, b, ())


def assert_same_paths(a: Any, b: Any) -> None:
    """Raise ValueError unless `a` and `b` have the same leaf paths (`flatten_with_path`),
    whatever their container types.

    >>> assert_same_paths([0, 1], (2, 3))
    >>> assert_same_paths([0, 1], {"a": 0})
    Traceback (most recent call last):
        ...
    ValueError: `a` and `b` don't have the same paths.
    Paths in `a` missing in `b`:
    {(0,), (1,)}
    Paths in `b` missing in `a`:
    {('a',)}
    """
    paths_a = {path for path, _ in flatten_with_path(a)}
    paths_b = {path for path, _ in flatten_with_path(b)}
    if paths_a == paths_b:
        return
    message = "`a` and `b` don't have the same paths."
    if paths_a - paths_b:
        message += f"\nPaths in `a` missing in `b`:\n{paths_a - paths_b}"
    if paths_b - paths_a:
        message += f"\nPaths in `b` missing in `a`:\n{paths_b - paths_a}"
    raise ValueError(message)


def _pack(structure: Any, leaves: list[Any], position: int) -> tuple[Any, int]:
    if node_kind(structure) is None:
        return leaves[position], position + 1
    packed = []
    for _, child in children(structure):
        value, position = _pack(child, leaves, position)
        packed.append(value)
    return rebuild(structure, packed), position


def pack_sequence_as(structure: Any, flat_sequence: Any) -> Any:
    """Put the items of `flat_sequence` into the layout of `structure`, in `flatten`'s order
    (the inverse of `flatten`).

    >>> pack_sequence_as((("a", "b"), ("c", "d", "e"), "f"), [1, 2, 3, 4, 5, 6])
    ((1, 2), (3, 4, 5), 6)
    >>> pack_sequence_as({"key3": "", "key1": "", "key2": ""}, ["v1", "v2", "v3"])
    {'key3': 'v3', 'key1': 'v1', 'key2': 'v2'}
    """
    try:
        leaves = list(flat_sequence)
    except TypeError:
        raise TypeError(
            f"pack_sequence_as needs an iterable flat_sequence; got "
            f"{type(flat_sequence).__name__} {flat_sequence!r}"
        ) from None
    expected = len(flatten(structure))
    if len(leaves) != expected:
        raise ValueError(
            f"pack_sequence_as: the structure holds {expected} leaves but flat_sequence has "
            f"{len(leaves)} items; structure: {structure!r}"
        )
    return _pack(structure, leaves, 0)[0]


def traverse(func: Callable[[Any], Any], structure: Any, top_down: bool = True) -> Any:
    """Visit every sub-structure and leaf, depth first, and rebuild with what `func` returns.

    Top down (parents first), a non-None result replaces the sub-structure and its children
    are not visited; None goes on into the children. Bottom up (children first), `func` sees
    the rebuilt sub-structure and a non-None result replaces it. Return `MAP_TO_NONE` to put
    None in place.

    >>> seen = []
    >>> traverse(seen.append, [(1, 2), {"a": 3}])
    [(1, 2), {'a': 3}]
    >>> seen
    [[(1, 2), {'a': 3}], (1, 2), 1, 2, {'a': 3}, 3]
    >>> traverse(lambda x: MAP_TO_NONE if x == 2 else None, [1, 2])
    [1, None]
    """
    _check_callable(func, "traverse")

    def visit_children(node: Any) -> Any:
        if node_kind(node) is None:
            return node
        return rebuild(node, [visit(child) for _, child in children(node)])

    def visit(node: Any) -> Any:
        if top_down:
            result = func(node)
            if result is None:
                return visit_children(node)
        else:
            node = visit_children(node)
            result = func(node)
            if result is None:
                return node
        return None if result is MAP_TO_NONE else result

    return visit(structure)


def lists_to_tuples(structure: Any) -> Any:
    """The same structure with every list (at any depth) turned into a tuple.

    >>> lists_to_tuples([[1], {"a": [2, 3]}])
    ((1,), {'a': (2, 3)})
    """
    return traverse(lambda x: tuple(x) if type(x) is list else None, structure, top_down=False)


def _is_shape(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and all(
        item is None or isinstance(item, int) for item in value
    )


def map_shape_structure(func: Callable[[Any], Any], structure: Any) -> Any:
    """`map_structure` for structures of shapes: a list or tuple of ints and Nones is a leaf
    passed whole to `func`.

    >>> map_shape_structure(lambda s: (None, *s), {"a": (2, 3), "b": [(4,), (5, None)]})
    {'a': (None, 2, 3), 'b': [(None, 4), (None, 5, None)]}
    """
    _check_callable(func, "map_shape_structure")
    if _is_shape(structure) or node_kind(structure) is None:
        return func(structure)
    return rebuild(structure, [map_shape_structure(func, c) for _, c in children(structure)])
