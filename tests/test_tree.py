"""lamina.tree against Keras 3.15.1's keras.tree.

The expected values are Keras 3.15.1 outputs (KERAS_BACKEND=torch) of the scratch programs
probe_tree.py, probe_tree2.py and probe_tree3.py, where the same calls were made on keras.tree.
Where Keras' torch implementation departs from its own documentation and its other
implementations (optree, dm-tree), lamina follows the documentation; those tests say so.
"""

from collections import OrderedDict, defaultdict, deque, namedtuple

import numpy as np
import pytest
import torch

from lamina import tree

Point = namedtuple("Point", ["x", "y"])
OtherPoint = namedtuple("OtherPoint", ["x", "y"])
SamePoint = namedtuple("Point", ["x", "y"])
Reversed = namedtuple("Reversed", ["b", "a"])
NESTED = ({"b": [2, 3], "a": (1,)}, Point(y=9, x=8))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, False),
        (1, False),
        ("ab", False),
        ({1, 2}, False),
        (np.ones(2), False),
        (torch.ones(2), False),
        (torch.Size([2, 3]), False),
        ((), True),
        ([1], True),
        (deque([1]), True),
        (Point(1, 2), True),
        ({}, True),
        (OrderedDict(a=1), True),
        (defaultdict(list), True),
        (torch.max(torch.ones(2, 2), 0), True),
    ],
)
def test_is_nested_matches_keras(value, expected):
    assert tree.is_nested(value) is expected


def test_flatten_orders_dicts_by_sorted_key_and_ordered_dicts_by_insertion():
    assert tree.flatten({"b": 2, "a": 1}) == [1, 2]
    assert tree.flatten(OrderedDict([("b", 2), ("a", 1)])) == [2, 1]
    assert tree.flatten(defaultdict(list, {"b": 2, "a": 1})) == [1, 2]
    assert tree.flatten({100: "w", 6: "h"}) == ["h", "w"]


def test_flatten_nested_structure_matches_keras():
    assert tree.flatten(NESTED) == [1, 2, 3, 8, 9]
    assert tree.flatten([1, None, {"a": None}]) == [1, None, None]


def test_flatten_of_a_leaf_is_a_one_item_list():
    tensor = torch.ones(2)
    assert tree.flatten(None) == [None]
    assert tree.flatten(tensor)[0] is tensor
    assert tree.flatten({1, 2}) == [{1, 2}]


def test_flatten_with_path_matches_keras():
    assert tree.flatten_with_path(NESTED) == [
        ((0, "a", 0), 1),
        ((0, "b", 0), 2),
        ((0, "b", 1), 3),
        ((1, 0), 8),
        ((1, 1), 9),
    ]
    assert tree.flatten_with_path(5) == [((), 5)]


def test_flatten_with_path_gives_namedtuple_fields_their_position():
    # Keras' torch implementation numbers fields by sorted name ([((1,), 1), ((0,), 2)]),
    # against its documentation; its optree implementation gives positions, as lamina.
    assert tree.flatten_with_path(Reversed(b=1, a=2)) == [((0,), 1), ((1,), 2)]


def test_flatten_with_unsortable_dict_keys_raises_type_error():
    with pytest.raises(TypeError, match="cannot be sorted"):
        tree.flatten({1: 1, "a": 2})


def test_map_structure_keeps_types_and_dict_order():
    result = tree.map_structure(lambda x: ("m", x), NESTED)
    assert result == ({"b": [("m", 2), ("m", 3)], "a": (("m", 1),)}, Point(("m", 8), ("m", 9)))
    assert list(result[0]) == ["b", "a"]
    mapped = tree.map_structure(str, deque([1, 2], maxlen=5))
    assert mapped == deque(["1", "2"]) and mapped.maxlen == 5
    factory = tree.map_structure(str, defaultdict(list, {"a": 1})).default_factory
    assert factory is list


def test_map_structure_over_several_structures():
    assert tree.map_structure(lambda *a: sum(a), [1, (2, 3)], [10, (20, 30)]) == [11, (22, 33)]


def test_map_structure_matches_dict_kinds_by_keys():
    result = tree.map_structure(
        lambda a, b: a + b, OrderedDict([("b", 10), ("a", 20)]), {"a": 1, "b": 2}
    )
    assert result == OrderedDict([("b", 12), ("a", 21)])
    assert type(result) is OrderedDict


@pytest.mark.parametrize(
    ("first", "second", "problem"),
    [
        ([1, 2], (10, 20), "different types"),
        ([1, 2], [10, 20, 30], "different lengths"),
        ([1, [2]], [10, 20], "a different nesting"),
        ({"a": 1}, {"b": 1}, "different keys"),
        (Point(1, 2), OtherPoint(1, 2), "different types"),
        (Point(1, 2), SamePoint(1, 2), "two different classes of the same name"),
        (Point(1, 2), (1, 2), "different types"),
        (deque([1]), [1], "different types"),
    ],
)
def test_map_structure_mismatch_raises_value_error(first, second, problem):
    with pytest.raises(ValueError, match=f"don't have the same nested structure: {problem}"):
        tree.map_structure(lambda a, b: a, first, second)


def test_map_structure_leaf_against_nested_raises():
    # Keras' torch implementation passes [20] to func here (its documentation and its optree
    # implementation raise ValueError, as lamina).
    with pytest.raises(ValueError, match="at path \\(1,\\); the first has a leaf"):
        tree.map_structure(lambda a, b: a, [1, 2], [10, [20]])


def test_map_structure_none_is_leaf_false_keeps_none():
    assert tree.map_structure(lambda x: ("m", x), [1, None, {"a": None}], none_is_leaf=False) == [
        ("m", 1),
        None,
        {"a": None},
    ]
    assert tree.map_structure(lambda x: ("m", x), [None]) == [("m", None)]
    assert tree.map_structure(lambda x: 1, None, none_is_leaf=False) is None


def test_map_structure_none_is_leaf_false_needs_none_everywhere():
    pair = tree.map_structure(lambda a, b: (a, b), [None, 1], [None, 2], none_is_leaf=False)
    assert pair == [None, (1, 2)]
    with pytest.raises(ValueError, match="none_is_leaf=False"):
        tree.map_structure(lambda a, b: (a, b), [None, 1], [3, 2], none_is_leaf=False)


def test_map_structure_needs_a_structure_and_a_callable():
    with pytest.raises(ValueError, match="at least one structure"):
        tree.map_structure(lambda x: x)
    with pytest.raises(TypeError, match="callable"):
        tree.map_structure(3, [1])


def test_map_structure_up_to_matches_keras():
    assert tree.map_structure_up_to([None, None], len, [[1, 1], [2, 2]]) == [2, 2]
    assert tree.map_structure_up_to([None, [None, None]], str, [[1, 1], [2, 2]]) == [
        "[1, 1]",
        ["2", "2"],
    ]
    assert tree.map_structure_up_to({"a": None, "b": None}, str, {"b": [1], "a": (2,)}) == {
        "a": "(2,)",
        "b": "[1]",
    }
    assert tree.map_structure_up_to(None, str, [1, 2]) == "[1, 2]"
    assert tree.map_structure_up_to([1, None], str, [[1], None]) == ["[1]", "None"]


def test_map_structure_up_to_rejects_shallower_structures():
    with pytest.raises(ValueError, match="shallow_structure has a list of length 1"):
        tree.map_structure_up_to([[None], None], str, [1, 2])
    with pytest.raises(ValueError, match="different lengths"):
        tree.map_structure_up_to([None, None], str, [1, 2, 3])
    with pytest.raises(ValueError, match="at least one structure"):
        tree.map_structure_up_to([None], str)


def test_assert_same_structure_accepts_any_leaves_and_dict_kinds():
    tree.assert_same_structure([(0, 1)], [(2, 3)])
    tree.assert_same_structure(1, "a")
    tree.assert_same_structure([None], [1])
    tree.assert_same_structure(torch.ones(2), np.ones(3))
    tree.assert_same_structure({"a": 1, "b": 2}, OrderedDict([("b", 1), ("a", 2)]))


@pytest.mark.parametrize(
    ("a", "b"),
    [([0, 1], (2, 3)), ([0, 1], [2, 3, 4]), ([0, 1], [2, [3]]), (1, [1]), ({"a": 1}, {"b": 2})],
)
def test_assert_same_structure_raises_where_keras_does(a, b):
    with pytest.raises(ValueError, match="don't have the same nested structure"):
        tree.assert_same_structure(a, b)


def test_assert_same_structure_check_types_is_deprecated():
    with pytest.warns(DeprecationWarning, match="check_types"):
        tree.assert_same_structure([1], [2], check_types=True)


def test_assert_same_paths_ignores_container_types():
    tree.assert_same_paths([0, 1], (2, 3))
    tree.assert_same_paths(Point(0, 1), OtherPoint(2, 3))


def test_assert_same_paths_message_matches_keras():
    expected = (
        "`a` and `b` don't have the same paths.\nPaths in `a` missing in `b`:\n{(1, 0), (1, 1)}"
        "\nPaths in `b` missing in `a`:\n{(1,), (2,)}"
    )
    with pytest.raises(ValueError) as raised:
        tree.assert_same_paths([0, [1, 2]], [0, 1, 3])
    # Set order is not fixed: compare the parts.
    lines = str(raised.value).split("\n")
    assert lines[0] == expected.split("\n")[0]
    assert eval(lines[2]) == {(1, 0), (1, 1)} and eval(lines[4]) == {(1,), (2,)}  # noqa: S307


def test_pack_sequence_as_matches_keras():
    assert tree.pack_sequence_as(NESTED, [100, 101, 102, 103, 104]) == (
        {"a": (100,), "b": [101, 102]},
        Point(x=103, y=104),
    )
    assert tree.pack_sequence_as((("a", "b"), ("c", "d", "e"), "f"), [1, 2, 3, 4, 5, 6]) == (
        (1, 2),
        (3, 4, 5),
        6,
    )
    assert tree.pack_sequence_as(OrderedDict([("b", 0), ("a", 0)]), [100, 101]) == OrderedDict(
        [("b", 100), ("a", 101)]
    )
    assert tree.pack_sequence_as(1, [100]) == 100
    assert tree.pack_sequence_as([], []) == []
    assert tree.pack_sequence_as([1, 2], "ab") == ["a", "b"]


def test_pack_sequence_as_keeps_the_structures_key_order():
    # Keras' torch implementation returns {'a': 100, 'b': 101} (sorted keys, equal as a dict).
    packed = tree.pack_sequence_as({"b": "", "a": ""}, [100, 101])
    assert packed == {"a": 100, "b": 101} and list(packed) == ["b", "a"]


def test_pack_sequence_as_wrong_count_raises_value_error():
    with pytest.raises(ValueError, match="holds 2 leaves but flat_sequence has 1"):
        tree.pack_sequence_as([1, 2], [1])
    with pytest.raises(ValueError, match="holds 1 leaves but flat_sequence has 0"):
        tree.pack_sequence_as(1, [])


def test_pack_sequence_as_not_iterable_raises_type_error():
    with pytest.raises(TypeError, match="iterable"):
        tree.pack_sequence_as([1, 2], 5)


def test_traverse_top_down_visits_parents_first():
    seen = []
    assert tree.traverse(seen.append, [(1, 2), [3], {"a": 4}]) == [(1, 2), [3], {"a": 4}]
    assert seen == [[(1, 2), [3], {"a": 4}], (1, 2), 1, 2, [3], 3, {"a": 4}, 4]


def test_traverse_bottom_up_visits_children_first():
    seen = []
    tree.traverse(seen.append, [(1, 2), [3], {"a": 4}], top_down=False)
    assert seen == [1, 2, (1, 2), 3, [3], 4, {"a": 4}, [(1, 2), [3], {"a": 4}]]


def test_traverse_replaces_and_stops_top_down():
    def visit(x):
        return None if tree.is_nested(x) else x + 10

    assert tree.traverse(visit, OrderedDict([("b", 2), ("a", 1)])) == OrderedDict(
        [("b", 12), ("a", 11)]
    )
    assert tree.traverse(lambda x: "cut" if x == (1, 2) else None, [(1, 2), 3]) == ["cut", 3]


def test_traverse_map_to_none_puts_none():
    assert tree.traverse(lambda x: tree.MAP_TO_NONE if x == 2 else None, [1, 2]) == [1, None]
    bottom_up = tree.traverse(
        lambda x: tree.MAP_TO_NONE if x == [3] else None, [[3], 4], top_down=False
    )
    assert bottom_up == [None, 4]


def test_lists_to_tuples_matches_keras():
    result = tree.lists_to_tuples([[1, [2]], {"a": [3]}, Point([1], 2), deque([[1]])])
    assert result == ((1, (2,)), {"a": (3,)}, Point(x=(1,), y=2), deque([(1,)]))


def test_map_shape_structure_matches_keras():
    def mark(shape):
        return ("S", shape)

    structure = [(1, None), {"b": [2, 3], "a": (None,)}, [], 4, "x", (1, (2,))]
    assert tree.map_shape_structure(mark, structure) == [
        ("S", (1, None)),
        {"a": ("S", (None,)), "b": ("S", [2, 3])},
        ("S", []),
        ("S", 4),
        ("S", "x"),
        (("S", 1), ("S", (2,))),
    ]
    assert tree.map_shape_structure(mark, Point(1, 2)) == ("S", Point(1, 2))
    assert tree.map_shape_structure(mark, (np.int64(1), 2)) == (("S", np.int64(1)), ("S", 2))


def test_torch_tensors_are_leaves():
    x, y = torch.ones(2), torch.zeros(3)
    doubled = tree.map_structure(lambda t: t * 2, {"x": x, "y": [y]})
    assert torch.equal(doubled["x"], x * 2) and torch.equal(doubled["y"][0], y)
