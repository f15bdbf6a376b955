"""Tests for core.yaml: YAML 1.2 core-schema scalars, string keys, limits, and file:line:column errors."""

import math
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
import yaml as pyyaml

from core import yaml as core_yaml
from core.yaml import YamlError, load, load_all, load_file

WITBOOST_FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "data" / "witboost"
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def billion_laughs(levels: int = 9, fan_out: int = 9) -> str:
    lines = ['lol0: &lol0 ["lol"]']
    for level in range(1, levels + 1):
        aliases = ", ".join([f"*lol{level - 1}"] * fan_out)
        lines.append(f"lol{level}: &lol{level} [{aliases}]")
    return "\n".join(lines) + "\n"


def nested_lists(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_timestamps_stay_strings():
    document = load("created: 2023-12-04T11:38:05.500Z\nday: 2001-12-14\nspaced: 2001-12-14 21:59:43.10 -5\n")
    assert document == {
        "created": "2023-12-04T11:38:05.500Z",
        "day": "2001-12-14",
        "spaced": "2001-12-14 21:59:43.10 -5",
    }


@pytest.mark.parametrize("word", ["yes", "no", "on", "off", "Yes", "NO", "On", "OFF", "y", "n", "Y", "N"])
def test_yaml_1_1_booleans_stay_strings(word):
    assert load(f"value: {word}") == {"value": word}


def test_true_false_and_null_resolve_per_yaml_1_2():
    document = load("[true, True, TRUE, false, False, FALSE, null, Null, NULL, ~]")
    assert document == [True, True, True, False, False, False, None, None, None, None]
    assert load("empty:\n") == {"empty": None}


def test_odd_capitalisations_of_true_and_null_stay_strings():
    assert load("[tRUE, nULL, NuLL, .Nan]") == ["tRUE", "nULL", "NuLL", ".Nan"]


def test_integers_resolve_per_yaml_1_2_core_schema():
    assert load("[12, -3, +4, 0, 0o17, 0x1F, 0x1f, 0755, 007]") == [12, -3, 4, 0, 15, 31, 31, 755, 7]


def test_floats_resolve_per_yaml_1_2_core_schema():
    document = load("[1.5, .5, 1., -2.5e3, 1E-3, 1e3, .inf, -.Inf, +.INF, .nan, .NaN, .NAN]")
    assert document[:9] == [1.5, 0.5, 1.0, -2500.0, 0.001, 1000.0, math.inf, -math.inf, math.inf]
    assert all(isinstance(value, float) and math.isnan(value) for value in document[9:])
    assert isinstance(document[5], float)


def test_underscored_sexagesimal_and_binary_numbers_stay_strings():
    assert load("[1_000, 1:20, 190:20:30, 0b101, 0o8, 0X1F, 1.2.3]") == [
        "1_000",
        "1:20",
        "190:20:30",
        "0b101",
        "0o8",
        "0X1F",
        "1.2.3",
    ]


def test_quoted_scalars_are_always_strings():
    assert load("['1', \"true\", 'null', '']") == ["1", "true", "null", ""]


def test_a_huge_integer_is_a_yaml_error():
    with pytest.raises(YamlError, match="integer has too many digits"):
        load("big: " + "9" * 5000)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name: x\n200: y\n", {"name": "x", "200": "y"}),
        ("1.5: y\n", {"1.5": "y"}),
        ("true: y\nno: n\n", {"true": "y", "no": "n"}),
        ("meta:\n  null: y\n  ~: z\n", {"meta": {"null": "y", "~": "z"}}),
        ("!!int 7: y\n", {"7": "y"}),
    ],
)
def test_scalar_keys_are_read_as_their_text(text, expected):
    assert load(text) == expected


def test_a_number_key_and_its_quoted_text_are_duplicates():
    with pytest.raises(YamlError, match='duplicate key "200"') as caught:
        load("200: a\n'200': b\n")
    assert (caught.value.line, caught.value.column) == (2, 1)


@pytest.mark.parametrize(
    ("text", "kind", "line", "column"),
    [
        ("{a: 1, [x]: y}", "sequence", 1, 8),
        ("? {a: 1}\n: y\n", "mapping", 1, 3),
    ],
)
def test_non_string_keys_are_refused_with_their_position(text, kind, line, column):
    with pytest.raises(YamlError) as caught:
        load(text, source="catalog-info.yaml")
    assert caught.value.problem == f"keys must be strings, found {kind}"
    assert (caught.value.line, caught.value.column) == (line, column)


def test_quoted_and_tagged_numeric_keys_are_strings():
    assert load("'1': a\n!!str 2: b\n") == {"1": "a", "2": "b"}


def test_duplicate_keys_are_refused_at_the_second_occurrence():
    text = "metadata:\n    name: a\n    name: b\n"
    with pytest.raises(YamlError) as caught:
        load(text, source="catalog-info.yaml")
    assert str(caught.value) == 'catalog-info.yaml:3:5: duplicate key "name"'
    assert caught.value.source == "catalog-info.yaml"


def test_duplicate_keys_are_compared_after_tags_are_applied():
    with pytest.raises(YamlError, match='duplicate key "name"'):
        load("name: a\n!!str name: b\n")


def test_merge_key_is_an_ordinary_key():
    document = load("base: &base {x: 1}\nchild:\n  <<: *base\n  y: 2\n")
    assert document == {"base": {"x": 1}, "child": {"<<": {"x": 1}, "y": 2}}


def test_billion_laughs_is_refused_without_expanding():
    with pytest.raises(YamlError, match=r"more than 100000 nodes \(aliases counted as expanded\)"):
        load(billion_laughs(levels=9, fan_out=10))


def test_wide_alias_fan_out_within_the_limit_loads():
    aliases = ", ".join(["*base"] * 2000)
    document = load(f"base: &base {{name: shared, size: 3}}\nusers: [{aliases}]\n")
    assert len(document["users"]) == 2000
    assert document["users"][1999] == {"name": "shared", "size": 3}


def test_node_limit_counts_each_alias_as_a_full_copy():
    # root map, key "a", the list and its 3 items, key "b", its list, and two copies of a's 4 nodes: 16.
    text = "a: &a [1, 2, 3]\nb: [*a, *a]\n"
    assert load(text, max_nodes=16) == {"a": [1, 2, 3], "b": [[1, 2, 3], [1, 2, 3]]}
    with pytest.raises(YamlError, match="document has more than 15 nodes"):
        load(text, max_nodes=15)


def test_node_limit_counts_plain_nodes_too():
    # The list and its ten items: eleven nodes.
    assert load("- a\n" * 10, max_nodes=11) == ["a"] * 10
    with pytest.raises(YamlError) as caught:
        load("- a\n" * 10, max_nodes=10)
    assert str(caught.value) == "<string>:10:3: document has more than 10 nodes (aliases counted as expanded)"


def test_node_limit_covers_all_documents_together():
    text = "[1, 2]\n---\n[3, 4]\n"
    assert load_all(text, max_nodes=6) == [[1, 2], [3, 4]]
    with pytest.raises(YamlError, match="the documents have in total more than 5 nodes"):
        load_all(text, max_nodes=5)


def test_depth_64_is_accepted_and_65_refused():
    assert load(nested_lists(64)) is not None
    with pytest.raises(YamlError) as caught:
        load(nested_lists(65))
    assert caught.value.problem == "document is nested deeper than 64 levels"
    assert (caught.value.line, caught.value.column) == (1, 65)


def test_depth_counts_block_collections_and_ignores_scalars():
    two_levels = "top:\n  inner: [a]\n"
    assert load(two_levels, max_depth=3) == {"top": {"inner": ["a"]}}
    with pytest.raises(YamlError, match="nested deeper than 2 levels"):
        load(two_levels, max_depth=2)
    assert load("just a scalar", max_depth=1) == "just a scalar"


def test_an_alias_counts_at_the_depth_where_it_is_used():
    text = "a: &a [[x]]\nb: [*a]\n"
    assert load(text, max_depth=4) == {"a": [["x"]], "b": [[["x"]]]}
    with pytest.raises(YamlError, match="nested deeper than 3 levels"):
        load(text, max_depth=3)


def test_ten_thousand_open_brackets_are_a_yaml_error():
    with pytest.raises(YamlError, match="nested deeper than 64 levels"):
        load(nested_lists(10_000))
    with pytest.raises(YamlError, match="nested deeper than 64 levels"):
        load("[" * 10_000)


def test_nesting_that_would_crash_libyaml_is_refused_in_a_live_process():
    # 100,000 levels overflow the C stack of libyaml's composer, so a regression would kill the interpreter.
    code = (
        "from core.yaml import YamlError, load\n"
        "try:\n"
        "    load('[' * 100_000 + ']' * 100_000)\n"
        "except YamlError as error:\n"
        "    print(error)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "<string>:1:65: document is nested deeper than 64 levels"


def test_max_depth_cannot_exceed_what_the_parser_survives():
    with pytest.raises(ValueError, match="max_depth must be between 1 and 1000"):
        load("a: 1", max_depth=100_000)


@pytest.mark.parametrize("text", ["&a [*a]", "&a {self: *a}", "&a [x, [y, *a]]"])
def test_recursive_alias_is_refused(text):
    with pytest.raises(YamlError, match="recursive alias"):
        load(text)


def test_python_object_tag_is_refused_naming_the_tag():
    with pytest.raises(YamlError) as caught:
        load('!!python/object/apply:os.system ["echo hi"]')
    assert caught.value.problem == 'tag "!!python/object/apply:os.system" is not allowed'
    assert (caught.value.line, caught.value.column) == (1, 1)


@pytest.mark.parametrize(
    ("text", "tag"),
    [
        ("data: !!binary aGk=", "!!binary"),
        ("when: !!timestamp 2001-12-14", "!!timestamp"),
        ("!!set {a, b}", "!!set"),
        ("!!omap [a: 1]", "!!omap"),
        ("child:\n  !!merge <<: {x: 1}", "!!merge"),
        ("thing: !custom value", "!custom"),
        ("- !!python/name:os.system", "!!python/name:os.system"),
    ],
)
def test_tags_outside_the_core_schema_are_refused(text, tag):
    with pytest.raises(YamlError, match=f'tag "{tag}" is not allowed'):
        load(text)


def test_explicit_str_tag_keeps_digits_as_text():
    assert load("!!str 123") == "123"


def test_explicit_core_tags_convert_valid_values():
    assert load("[!!int '0x1F', !!float 1, !!bool 'true', !!null '', !!seq [], !!map {}]") == [
        31,
        1.0,
        True,
        None,
        [],
        {},
    ]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("!!int abc", 'invalid integer "abc"'),
        ("!!int 1_000", 'invalid integer "1_000"'),
        ("!!float 1_0", 'invalid float "1_0"'),
        ("!!bool yes", 'invalid boolean "yes"'),
        ("!!null x", 'invalid null "x"'),
        ("!!map [1]", "expected a mapping node, but found sequence"),
    ],
)
def test_explicit_core_tags_must_fit_their_value(text, problem):
    with pytest.raises(YamlError) as caught:
        load(text)
    assert caught.value.problem == problem


def test_size_limit_is_checked_in_utf8_bytes():
    with pytest.raises(YamlError) as caught:
        load("name: longer than ten", max_bytes=10)
    assert str(caught.value) == "<string>: file is larger than the limit of 10 bytes"
    assert caught.value.line is None
    with pytest.raises(YamlError, match="larger than the limit"):
        load("éééééé", max_bytes=10)
    assert load("ééééé", max_bytes=10) == "ééééé"


def test_default_size_limit_is_one_mebibyte():
    assert load("a" * 1_048_576) == "a" * 1_048_576
    with pytest.raises(YamlError, match="file is larger than the limit of 1 MiB"):
        load("a" * 1_048_577)
    with pytest.raises(YamlError, match="file is larger than the limit of 1 MiB"):
        load(b"a" * 1_048_577)


def test_invalid_utf8_bytes_are_refused_with_their_position():
    with pytest.raises(YamlError) as caught:
        load(b"name: ok\ntitle: caf\xe9\n", source="bad.yaml")
    assert str(caught.value) == "bad.yaml:2:11: file is not valid UTF-8 (byte 0xe9 at offset 19)"


def test_utf8_bytes_and_a_byte_order_mark_are_accepted():
    assert load("title: café\n".encode()) == {"title": "café"}
    assert load(b"\xef\xbb\xbftitle: x\n") == {"title": "x"}
    assert load("\ufefftitle: x\n") == {"title": "x"}


def test_control_characters_are_refused_with_their_position():
    with pytest.raises(YamlError) as caught:
        load("é: [é, \x02]", source="ctl.yaml")
    assert str(caught.value) == "ctl.yaml:1:8: character U+0002 is not allowed in YAML"


def test_syntax_error_reports_file_line_and_column():
    with pytest.raises(YamlError) as caught:
        load("name: a\nkind: b\n  owner: c\n", source="catalog-info.yaml")
    assert str(caught.value) == "catalog-info.yaml:3:8: mapping values are not allowed in this context"
    assert not isinstance(caught.value, pyyaml.YAMLError)


def test_syntax_error_mentions_its_context():
    with pytest.raises(YamlError) as caught:
        load("key: 'unterminated\n", source="x.yaml")
    assert caught.value.line == 2
    assert "while scanning a quoted scalar at line 1, column 6" in caught.value.problem


def test_undefined_alias_is_a_yaml_error():
    with pytest.raises(YamlError) as caught:
        load("a: 1\nb: *missing\n")
    assert (caught.value.line, caught.value.column, caught.value.problem) == (2, 4, "found undefined alias")


def test_load_all_returns_every_document():
    assert load_all("a: 1\n---\nb: 2\n--- [3]\n--- null\n") == [{"a": 1}, {"b": 2}, [3], None]


def test_load_all_skips_documents_without_content():
    assert load_all("---\n# only a comment\n---\na: 1\n---\n") == [{"a": 1}]
    assert load_all("") == []
    assert load_all("--- ''\n") == [""]


def test_load_refuses_two_documents():
    with pytest.raises(YamlError) as caught:
        load("a: 1\n---\nb: 2\n---\nc: 3\n", source="two.yaml")
    assert str(caught.value) == "two.yaml:3:1: expected a single document, found 3"


def test_load_of_a_stream_without_documents_is_none():
    assert load("") is None
    assert load("# nothing here\n") is None


def test_load_file_reads_the_file_and_names_it_in_errors(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text("name: demo\nsince: 2024-01-01\n", encoding="utf-8")
    assert load_file(good) == {"name": "demo", "since": "2024-01-01"}
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: a\nname: b\n", encoding="utf-8")
    with pytest.raises(YamlError) as caught:
        load_file(bad)
    assert str(caught.value) == f'{bad}:2:1: duplicate key "name"'


def test_load_file_refuses_a_file_over_the_limit(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_text("a" * 11, encoding="utf-8")
    with pytest.raises(YamlError) as caught:
        load_file(big, max_bytes=10)
    assert str(caught.value) == f"{big}: file is larger than the limit of 10 bytes"


def test_yaml_errors_survive_pickling():
    error = YamlError('duplicate key "name"', source="catalog-info.yaml", line=3, column=5)
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes, round-tripped
    assert str(copy) == 'catalog-info.yaml:3:5: duplicate key "name"'
    assert (copy.source, copy.line, copy.column, copy.problem) == ("catalog-info.yaml", 3, 5, error.problem)


def test_pure_python_fallback_follows_the_same_rules(monkeypatch):
    monkeypatch.setattr(core_yaml, "_Loader", core_yaml._PureLoader)
    assert load("[yes, 0755, 1:20, 2001-12-14, 0x1F]") == ["yes", 755, "1:20", "2001-12-14", 31]
    with pytest.raises(YamlError, match="recursive alias"):
        load("&a [*a]")
    with pytest.raises(YamlError, match="more than 100000 nodes"):
        load(billion_laughs())
    with pytest.raises(YamlError) as caught:
        load("é: [é, \x02]")
    assert (caught.value.line, caught.value.column) == (1, 8)
    with pytest.raises(YamlError, match="document is nested too deeply"):
        load(nested_lists(1000), max_depth=1000)


def test_every_witboost_fixture_loads():
    assert WITBOOST_FIXTURES.is_dir(), f"missing fixtures directory {WITBOOST_FIXTURES}"
    paths = sorted(p for p in WITBOOST_FIXTURES.rglob("*") if p.suffix in {".yaml", ".yml"})
    assert paths
    for path in paths:
        documents = load_all(path.read_bytes(), source=path.name)
        assert documents, path.name
        assert all(isinstance(document, dict) for document in documents), path.name


def test_openapi_response_codes_come_back_as_string_keys():
    spec = load_file(WITBOOST_FIXTURES / "tech-adapter-api-2.2.0.yml")
    responses = spec["paths"]["/v1/provision"]["post"]["responses"]
    assert {"200", "202", "400", "500"} <= set(responses)


def test_descriptor_timestamps_come_back_as_strings():
    document = load_file(WITBOOST_FIXTURES / "scaffold-data_product_valid.yaml")
    found = []
    stack = [document]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            found.extend(item for key, item in value.items() if key == "creationDate")
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    assert "2023-12-04T11:38:05.500Z" in found
    assert all(isinstance(item, str) for item in found)


# --- dump: what it writes, load reads back unchanged ---------------------------------------------------------

# Strings that YAML 1.1 (PyYAML's dumper) or YAML 1.2 core (load) would read as something else when left plain.
NUMBER_LIKE_STRINGS = [
    "1e3",
    "1E3",
    "-1e-3",
    "0o17",
    "0x1F",
    "+1",
    "-0",
    "007",
    "1_000",
    ".5",
    "0.",
    ".inf",
    "-.inf",
    "+.INF",
    ".NaN",
    "12:30",
    "2024-01-01",
    "2024-01-01T10:00:00Z",
]
WORD_LIKE_STRINGS = ["yes", "no", "on", "off", "y", "N", "true", "False", "TRUE", "null", "Null", "~", "", "=", "<<"]


@pytest.mark.parametrize("text", NUMBER_LIKE_STRINGS + WORD_LIKE_STRINGS)
def test_dump_quotes_every_string_that_either_yaml_version_reads_otherwise(text):
    assert load(core_yaml.dump({"v": text})) == {"v": text}
    assert load(core_yaml.dump([text])) == [text]
    assert load(core_yaml.dump({text: 1})) == {text: 1}
    assert pyyaml.safe_load(core_yaml.dump({"v": text})) == {"v": text}  # YAML 1.1 readers too


@pytest.mark.parametrize(
    "value",
    [
        {"name": "Cash flow", "version": "1.0", "count": 3, "ratio": 0.5, "big": 10**30, "on": True, "none": None},
        {"nested": {"list": ["1e3", 1e3, "0o17", 15, [], {}], "empty": {}}, "inf": math.inf, "neg": -math.inf},
        ["a: b", "# not a comment", "{{ 7*7 }}", "line\nbreak", " padded ", "'quoted'", '"double"', "- item", "@at"],
        {"unicode": "Grüße, 日本語, emoji 🎉", "Ключ": "значение", "tab\there": "x"},
        [1, -2, 0, 2.5, -0.0, 1e-20, 1.5e300, True, False, None],
    ],
)
def test_dump_round_trips_plain_data(value):
    assert load(core_yaml.dump(value)) == value
    assert load(core_yaml.dump({"v": value})) == {"v": value}


def test_dump_leaves_pyyaml_safe_dumper_as_it_was():
    assert pyyaml.dump("1e3", Dumper=pyyaml.SafeDumper).startswith("1e3")


PARITY_INPUTS = [
    "a: 0o17\nb: 1_000\nc: .inf\nd: ~\ne: 'yes'\nf: yes\ng: 1e3\nh: 0x1F\ni: -.5\nj: NULL\nk: True\nl: '012'\n",
    "1: one\ntrue: yes\nnull: x\n~: y\n",
    "a: 1\na: 2\n",
    "a: !!binary aGk=\n",
    "? [a, b]\n: c\n",
    "---\nkind: A\n...\n---\n# only a comment\n---\nkind: B\n",
    "a: [1, {b: [2, {c: 3}]}]\nd: |\n  text\n  lines\ne: >\n  folded\n",
    "a: [\n",
    "a: b\n\tc: d\n",
    "é: [é, \x02]",
    "",
    "# nothing\n",
    "- 1\n- [2, 3]\n- {x: y}\n",
    "a: 2001-12-14t21:59:43.10-05:00\nb: 12:30:00\n",
]


def test_the_direct_path_for_small_inputs_loads_exactly_what_the_full_path_loads(monkeypatch):
    """Small alias-free inputs skip the event pass (core.yaml._load_direct); whatever they give, values or the
    error with its position, must be what the full path gives."""
    paths = sorted(p for p in WITBOOST_FIXTURES.rglob("*") if p.suffix in {".yaml", ".yml"})
    inputs = [*PARITY_INPUTS, *(path.read_text() for path in paths), nested_lists(70)]

    def outcome(text, **limits):
        try:
            return "ok", load_all(text, **limits)
        except YamlError as exc:
            return "error", str(exc)

    limits = [{}, {"max_nodes": 5}, {"max_depth": 2}]
    direct = [[outcome(text, **limit) for limit in limits] for text in inputs]
    monkeypatch.setattr(core_yaml, "_DIRECT_MAX_CHARS", -1)  # every input through the full path
    full = [[outcome(text, **limit) for limit in limits] for text in inputs]

    for text, mine, theirs in zip(inputs, direct, full, strict=True):
        assert mine == theirs, text[:80]
    assert any(kind == "ok" for row in direct for kind, _ in row)
    assert any(kind == "error" for row in direct for kind, _ in row)
