"""Tests for dataproducts.scaffold.rendering: skeletons render users' values as data, never as template source, and
nothing a template ships (hooks, extensions, paths out of its folder) runs or escapes (PRODUCT §4.1, §11)."""

from __future__ import annotations

import math
import pickle
import tempfile
from pathlib import Path

import pytest
from cookiecutter.generate import generate_files
from jinja2.ext import Extension

from core.yaml import load, load_all
from dataproducts.scaffold.rendering import (
    MAX_SKELETON_FILE_BYTES,
    MAX_SKELETON_FILES,
    SKELETON_FOLDER,
    TemplateRenderError,
    skeleton_render,
)

DATA = Path(__file__).parent / "data" / "skeletons"
TOP = SKELETON_FOLDER + "/"
META = {"entity_name": "finance.cashflow.0", "id": "urn:dmb:dp:finance:cashflow:0", "owner": "group:finance"}

# Strings that would change a YAML document's structure, or run as Jinja, if they were pasted in as they are.
HOSTILE_STRINGS = {
    "colon": "key: value",
    "quotes": 'she said "it\'s" fine',
    "newlines": "line one\nline two\n\n  indented: true\n",
    "jinja_expression": "{{ 7*7 }}",
    "jinja_statement": "{% for x in range(3) %}{{ x }}{% endfor %}",
    "jinja_raw": "{% raw %}{{ x }}{% endraw %} {# comment #} }}",
    "comment": "value # not a comment",
    "document_marker": "---\napiVersion: evil/v1\nkind: Location\n...",
    "block_scalar": "|\n  folded\n>",
    "flow": "[a, {b: c}], {d: e}",
    "sequence": "- item",
    "anchor": "&anchor *alias",
    "tag": "!!python/object/apply:os.system ['id']",
    "directive": "%YAML 1.1",
    "null_word": "null",
    "tilde": "~",
    "bool_word": "true",
    "yes_word": "yes",
    "number_word": "0x1F",
    "float_word": "1e3",
    "version_word": "1.0",
    "empty": "",
    "spaces": "  leading and trailing  ",
    "backslashes": "C:\\temp\\new \\n \\u0041",
    "question": "? key",
    "at_and_backtick": "@at `tick`",
    "emoji": "launch 🚀 family 👩‍👩‍👧 flag 🇮🇹",
    "unicode_breaks": "line\u2028separator\u2029paragraph\x85next line",
    "bom_and_controls": "\ufeffbom \x00nul \x07bell \x1bescape \x7fdel \t tab \r return",
    "bidi": "abc\u202edcba\u202c zero\u200bwidth",
    "cjk": "数据产品 データ 데이터",
    "ten_kilobytes": ("é: {{ 7*7 }} # --- '\"\n" * 1000)[:10240],
}


def render(files: dict[str, str | bytes], values: dict | None = None, meta: dict | None = None) -> dict[str, str]:
    encoded = {path: text.encode() if isinstance(text, str) else text for path, text in files.items()}
    return skeleton_render(files=encoded, values=values or {}, meta=meta or META, template_name="tests")


def render_error(files: dict[str, str | bytes], values: dict | None = None) -> TemplateRenderError:
    with pytest.raises(TemplateRenderError) as caught:
        render(files, values)
    return caught.value


def skeleton_files(name: str) -> dict[str, bytes]:
    root = DATA / name
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in root.rglob("*") if path.is_file()}


def yaml_of(value: object) -> str:
    """How one value renders through the yaml filter, in the three places YAML values go."""
    skeleton = (
        "before: 1\n"
        "value: {{ cookiecutter._values.v|yaml }}\n"
        "sequence:\n"
        "  - {{ cookiecutter._values.v|yaml }}\n"
        "  - end\n"
        "flow: [{{ cookiecutter._values.v|yaml }}, end]\n"
        "after: 2\n"
    )
    return render({TOP + "value.yaml": skeleton}, {"v": value})["value.yaml"]


class ExtensionThatMustNotLoad(Extension):
    """Named by the with_extensions skeleton: loading it would mean a template ran Python of its choice."""

    loaded = False

    def __init__(self, environment):
        super().__init__(environment)
        type(self).loaded = True


# --- the yaml filter ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", HOSTILE_STRINGS.values(), ids=HOSTILE_STRINGS.keys())
def test_the_yaml_filter_writes_any_string_as_that_same_string_without_changing_the_document(text):
    rendered = yaml_of(text)

    assert load(rendered) == {"before": 1, "value": text, "sequence": [text, "end"], "flow": [text, "end"], "after": 2}
    assert len(rendered.splitlines()) == 7  # one line per value: nothing a user types adds or removes lines


@pytest.mark.parametrize(
    "value",
    [
        0,
        -17,
        10**30,
        1.5,
        -0.25,
        1e16,
        1e-7,
        True,
        False,
        None,
        [],
        {},
        ["a", 1, None, [True, {"k": "v"}]],
        {"name": "day", "dataType": "DATE", "nested": {"list": [1.5, "x"], "empty": {}}},
        {"key: with colon": "v", "# hash": "w", "": "empty key", "{{ 7*7 }}": "jinja key"},
        [{"name": text} for text in HOSTILE_STRINGS.values()],
    ],
    ids=repr,
)
def test_the_yaml_filter_writes_numbers_booleans_null_lists_and_objects_back_to_the_same_value(value):
    rendered = load(yaml_of(value))

    assert rendered["value"] == value
    assert type(rendered["value"]) is type(value)
    assert rendered["flow"] == [value, "end"]


def test_the_yaml_filter_writes_infinities_and_nan_as_yaml_floats():
    values = load(
        render({TOP + "f.yaml": "{{ cookiecutter._values|yaml }}\n"}, {"a": math.inf, "b": -math.inf, "c": math.nan})[
            "f.yaml"
        ]
    )

    assert values["a"] == math.inf
    assert values["b"] == -math.inf
    assert math.isnan(values["c"])


def test_strings_that_look_like_other_scalars_stay_strings():
    for text in ("null", "~", "true", "False", "yes", "on", "0x1F", "0o17", "1e3", ".inf", "1.0", "2024-01-01", ""):
        assert load(yaml_of(text))["value"] == text


def test_the_yaml_filter_refuses_a_lone_surrogate_naming_the_file():
    error = render_error({TOP + "a.yaml": "a: {{ cookiecutter._values.v|yaml }}\n"}, {"v": "bad \ud800 text"})

    assert error.path == "a.yaml"
    assert "lone surrogate U+D800" in str(error)


def test_the_yaml_filter_refuses_values_that_are_not_json_like():
    error = render_error({TOP + "a.yaml": "a: {{ cookiecutter._values.v|yaml }}\n"}, {"v": {"set", "of", "words"}})

    assert error.path == "a.yaml"
    assert "values of type set are not supported" in str(error)


# --- the text filter ----------------------------------------------------------------------------------------


def test_the_text_filter_writes_values_as_plain_text():
    values = {"s": "Cash flow: {{ 7*7 }}", "n": 3, "none": None, "tags": ["a", "b"], "flag": True}
    skeleton = (
        "{{ cookiecutter._values.s|text }}|{{ cookiecutter._values.n|text }}|{{ cookiecutter._values.none|text }}|"
    )
    skeleton += "{{ cookiecutter._values.tags|text }}|{{ cookiecutter._values.flag|text }}"

    assert render({TOP + "README.md": skeleton}, values)["README.md"] == "Cash flow: {{ 7*7 }}|3||a, b|true"


@pytest.mark.parametrize("text", HOSTILE_STRINGS.values(), ids=HOSTILE_STRINGS.keys())
def test_the_text_filter_writes_any_string_literally_and_never_runs_it(text):
    rendered = render({TOP + "README.md": "# {{ cookiecutter._values.title|text }}\n"}, {"title": text})

    assert rendered["README.md"] == f"# {text}\n"


def test_a_value_that_would_run_code_as_jinja_is_only_text(tmp_path):
    marker = tmp_path / "executed"
    payload = f"{{{{ cycler.__init__.__globals__.os.popen('touch {marker}').read() }}}}"
    skeleton = {
        TOP + "catalog-info.yaml": "d: {{ cookiecutter._values.d|yaml }}\n",
        TOP + "README.md": "{{ cookiecutter._values.d|text }}",
    }

    rendered = render(skeleton, {"d": payload})

    assert load(rendered["catalog-info.yaml"]) == {"d": payload}
    assert rendered["README.md"] == payload
    assert not marker.exists()


# --- user values must go through a filter -------------------------------------------------------------------


@pytest.mark.parametrize(
    "use",
    [
        "{{ cookiecutter._values.title }}",
        "{{ cookiecutter._values.title ~ '!' }}",
        "{{ 'x' ~ cookiecutter._values.title }}",
        "{{ cookiecutter._values.title|upper }}",
        "{{ cookiecutter._values.title|string }}",
        "{{ cookiecutter._values.title|e }}",
        "{{ cookiecutter._values.title|replace('a', 'b') }}",
        "{{ '%s'|format(cookiecutter._values.title) }}",
        "{{ cookiecutter._values.count|int }}",
        "{{ cookiecutter._values.tags|join(', ') }}",
        "{% for tag in cookiecutter._values.tags %}{{ tag }}{% endfor %}",
        "{{ cookiecutter._values.columns[0].name }}",
        "{{ cookiecutter._values }}",
    ],
)
def test_a_user_value_written_without_the_yaml_or_text_filter_fails_naming_the_template_and_the_file(use):
    values = {"title": "Cash flow", "count": "3", "tags": ["a"], "columns": [{"name": "day"}]}

    error = render_error({TOP + "docs/notes.txt": f"line one\n{use}\n"}, values)

    assert error.template == "tests"
    assert error.path == "docs/notes.txt"
    assert str(error).startswith("template tests: docs/notes.txt fails to render at line 2: cookiecutter._values")
    assert "must be written through a filter" in str(error)


def test_a_raw_user_value_in_a_shipped_skeleton_is_refused():
    with pytest.raises(TemplateRenderError) as caught:
        skeleton_render(
            files=skeleton_files("raw_user_value"),
            values={"title": "Cash flow", "description": "x: y"},
            meta=META,
            template_name="careless",
        )

    assert str(caught.value).startswith(
        "template careless: catalog-info.yaml fails to render at line 7: cookiecutter._values.description is a "
        "user value and must be written through a filter"
    )


def test_user_values_can_be_tested_compared_counted_and_iterated_without_a_filter():
    skeleton = (
        "{% if cookiecutter._values.maturity == 'Strategic' %}strategic{% endif %}\n"
        "{% if cookiecutter._values.tags %}{{ cookiecutter._values.tags|length }} tags{% endif %}\n"
        "{% if 'b' in cookiecutter._values.tags %}has b{% endif %}\n"
        "{% for tag in cookiecutter._values.tags %}- {{ tag|yaml }}\n{% endfor %}"
        "{% for column in cookiecutter._values.columns %}"
        "{{ column.name|yaml }}: {{ column.dataType|yaml }}\n"
        "{% endfor %}"
        "{% if cookiecutter._values.missing is defined %}never{% endif %}"
        "{{ cookiecutter._values.missing|default('fallback')|yaml }}\n"
    )
    values = {"maturity": "Strategic", "tags": ["a", "b"], "columns": [{"name": "day", "dataType": "DATE"}]}

    rendered = render({TOP + "out.txt": skeleton}, values)["out.txt"]

    assert rendered == 'strategic\n2 tags\nhas b\n- "a"\n- "b"\n"day": "DATE"\n"fallback"\n'


def test_a_missing_user_value_fails_naming_it_unless_the_skeleton_gives_a_default():
    error = render_error({TOP + "a.yaml": "a: {{ cookiecutter._values.informationSLA|yaml }}\n"}, {})

    assert error.path == "a.yaml"
    assert "cookiecutter._values.informationSLA is not set" in str(error)


def test_meta_values_are_plain_and_need_no_filter():
    rendered = render(
        {TOP + "a.yaml": "name: {{ cookiecutter._meta.entity_name }}\nowner: {{ cookiecutter._meta.owner }}\n"}
    )

    assert load(rendered["a.yaml"]) == {"name": "finance.cashflow.0", "owner": "group:finance"}


def test_meta_values_may_name_files_and_folders():
    rendered = render({TOP + "{{ cookiecutter._meta.entity_name }}/{{ cookiecutter._meta.entity_name }}.txt": "x"})

    assert rendered == {"finance.cashflow.0/finance.cashflow.0.txt": "x"}


def test_a_file_whose_name_renders_empty_is_left_out():
    skeleton = {TOP + "{% if cookiecutter._meta.get('optional') %}optional.txt{% endif %}": "x", TOP + "kept.txt": "y"}

    assert render(skeleton) == {"kept.txt": "y"}


def test_rendered_files_keep_their_text_and_trailing_newlines():
    rendered = render({TOP + "a.txt": "one\n\n", TOP + "b.txt": "no newline", TOP + "empty.txt": ""})

    assert rendered == {"a.txt": "one\n\n", "b.txt": "no newline", "empty.txt": ""}


# --- what a skeleton may not do -----------------------------------------------------------------------------


def test_a_skeleton_declaring_extensions_is_refused_and_nothing_is_imported():
    ExtensionThatMustNotLoad.loaded = False
    with pytest.raises(TemplateRenderError) as caught:
        skeleton_render(
            files=skeleton_files("with_extensions"), values={"description": "x"}, meta=META, template_name="sneaky"
        )

    assert str(caught.value) == (
        "template sneaky: cookiecutter.json declares _extensions; templates may not load Jinja extensions"
    )
    assert not ExtensionThatMustNotLoad.loaded


@pytest.mark.parametrize(
    ("path", "document", "declared"),
    [
        ("cookiecutter.json", '{"_extensions_more": ["x.Y"]}', "_extensions_more"),
        ("cookiecutter.json", '{"nested": {"_extensions": []}}', "nested._extensions"),
        (TOP + "sub/cookiecutter.json", '{"_extensions": ["jinja2_time.TimeExtension"]}', "_extensions"),
    ],
)
def test_extensions_are_refused_in_any_cookiecutter_json_under_any_key_starting_with_extensions(
    path, document, declared
):
    error = render_error({path: document, TOP + "a.txt": "x"})

    assert error.path == path.removeprefix(TOP)
    assert f"declares {declared};" in str(error)


def test_a_cookiecutter_json_that_cannot_be_read_is_refused():
    error = render_error({"cookiecutter.json": "{not json", TOP + "a.txt": "x"})

    assert error.path == "cookiecutter.json"
    assert "is not valid JSON" in str(error)


def test_hooks_never_run(tmp_path, monkeypatch):
    marker = tmp_path / "hook-marker"
    monkeypatch.setenv("MESHFORGE_TEST_HOOK_MARKER", str(marker))

    rendered = skeleton_render(
        files=skeleton_files("with_hooks"), values={"description": "d"}, meta=META, template_name="hooked"
    )

    assert sorted(rendered) == ["catalog-info.yaml"]  # no HOOK_RAN-* file from a hook run in the project folder
    assert not marker.exists()


def test_the_hooks_of_the_test_skeleton_do_run_under_plain_cookiecutter(tmp_path, monkeypatch):
    """Proves the test above would notice: with hooks accepted, cookiecutter runs them and they leave markers."""
    marker = tmp_path / "hook-marker"
    monkeypatch.setenv("MESHFORGE_TEST_HOOK_MARKER", str(marker))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # cookiecutter keeps the rendered hook scripts
    context = {"cookiecutter": {"_target": "out", "_meta": META, "_values": {"description": "d"}}}
    context["cookiecutter"]["_extensions"] = ["dataproducts.scaffold.rendering.SkeletonFilters"]

    project = generate_files(repo_dir=DATA / "with_hooks", context=context, output_dir=tmp_path, accept_hooks=True)

    assert marker.exists()
    assert (Path(project) / "HOOK_RAN-post_gen_project").exists()


def test_rendering_writes_no_replay_or_config_file_in_the_home_folder(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("COOKIECUTTER_CONFIG", raising=False)

    render({TOP + "catalog-info.yaml": "a: {{ cookiecutter._values.a|yaml }}\n"}, {"a": "b"})
    render_error({TOP + "broken.yaml": "a: {{ cookiecutter._values.a }}\n"}, {"a": "b"})

    assert list(home.iterdir()) == []  # cookiecutter's replay folder and config would be ~/.cookiecutter*


def test_rendering_leaves_no_temporary_folder_behind_whether_it_succeeds_or_fails(tmp_path, monkeypatch):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))

    render({TOP + "a.txt": "x"})
    render_error({TOP + "a.yaml": "a: [\n"})
    render_error({TOP + "a.txt": "{{ cookiecutter._values.x }}"}, {"x": "y"})

    assert list(scratch.iterdir()) == []


@pytest.mark.parametrize(
    "path",
    [
        "/etc/passwd",
        "../outside.txt",
        TOP + "../outside.txt",
        TOP + "a/../../outside.txt",
        TOP + "./a.txt",
        TOP + "a//b.txt",
        TOP + "a\\..\\..\\outside.txt",
        TOP + ".git/hooks/post-commit",
        TOP + "sub/.GIT/config",
        TOP + "nul\0byte.txt",
        TOP + "new\nline.txt",
    ],
)
def test_paths_that_are_absolute_or_leave_the_skeleton_are_refused(path):
    error = render_error({path: "x", TOP + "a.txt": "y"})

    assert error.path == path.removeprefix(TOP)


@pytest.mark.parametrize(
    "name",
    [
        "{{ cookiecutter._values.absolute|text }}.txt",
        "{{ '..' }}/{{ '..' }}/escape.txt",
        "{{ cookiecutter._values.inner|text }}.txt",
        "{{ '.git' }}/config",
        "{{ cookiecutter._values.name|text }}.txt",
    ],
)
def test_file_names_that_render_to_a_path_outside_the_folder_are_refused_before_anything_is_written(name):
    values = {"name": "../../../../../../tmp/user-controlled", "absolute": "/tmp/absolute", "inner": "a/../../b"}

    error = render_error({TOP + name: "x"}, values)

    assert error.path == name
    assert "renders to the path" in str(error)
    assert not Path("/tmp/user-controlled.txt").exists()
    assert not Path("/tmp/absolute.txt").exists()


def test_two_files_rendering_to_the_same_path_are_refused():
    error = render_error({TOP + "a.txt": "x", TOP + "{{ 'a' }}.txt": "y"})

    assert "a path another file also has" in str(error)


@pytest.mark.parametrize("entry", [None, "a string, not bytes", 120000])
def test_entries_that_are_not_regular_files_such_as_symlinks_are_refused(entry):
    with pytest.raises(TemplateRenderError) as caught:
        skeleton_render(files={TOP + "link": entry, TOP + "a.txt": b"x"}, values={}, meta=META, template_name="t")

    assert str(caught.value) == "template t: link is not a regular file (symbolic links and submodules are not allowed)"


@pytest.mark.parametrize("inner", ["a/b.txt", "a/b/c/d.txt"])
def test_a_path_that_is_both_a_file_and_a_folder_is_refused(inner):
    error = render_error({TOP + "a": "x", TOP + inner: "y"})

    assert error.path == "a"
    assert "is both a file and a folder" in str(error)


def test_a_file_and_a_folder_rendering_to_the_same_path_are_refused():
    error = render_error({TOP + "a": "x", TOP + "{{ 'a' }}/b.txt": "y"})

    assert "a path another file also has" in str(error)


def test_a_skeleton_with_too_many_files_is_refused():
    files = {f"{TOP}file-{index}.txt": "x" for index in range(MAX_SKELETON_FILES + 1)}

    error = render_error(files)

    assert str(error) == f"template tests: skeleton has {MAX_SKELETON_FILES + 1} files; at most 500 are allowed"


def test_a_file_over_one_mebibyte_is_refused_naming_it():
    error = render_error({TOP + "big.txt": b"x" * (MAX_SKELETON_FILE_BYTES + 1)})

    assert str(error) == "template tests: big.txt is larger than the limit of 1 MiB"


def test_a_file_that_renders_over_one_mebibyte_is_refused_naming_it():
    error = render_error({TOP + "big.txt": "{% for i in range(2000) %}" + "x" * 1000 + "{% endfor %}"})

    assert str(error) == "template tests: big.txt renders larger than the limit of 1 MiB"


def test_a_file_that_is_not_utf8_is_refused_naming_it():
    error = render_error({TOP + "latin1.txt": "caf\xe9".encode("latin-1")})

    assert str(error) == "template tests: latin1.txt is not UTF-8 text (byte 0xe9 at offset 3)"


def test_a_binary_file_is_refused_rather_than_copied_unrendered():
    error = render_error({TOP + "logo.png": b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"})

    assert error.path == "logo.png"


def test_a_utf8_text_file_full_of_non_ascii_characters_still_renders():
    text = "# Données 数据产品 🚀 " * 50 + "\n{{ cookiecutter._meta.owner }}\n"

    assert render({TOP + "README.md": text})["README.md"] == text.replace(
        "{{ cookiecutter._meta.owner }}", "group:finance"
    )


def test_a_skeleton_without_the_target_folder_is_refused():
    error = render_error({"catalog-info.yaml": "a: 1\n", "cookiecutter.json": "{}"})

    assert str(error) == "template tests: skeleton has no files in its top folder {{cookiecutter._target}}"


@pytest.mark.parametrize("folder", ["{{cookiecutter.project_slug}}", "templates", "other"])
def test_a_second_top_folder_is_refused(folder):
    error = render_error({TOP + "a.txt": "x", f"{folder}/b.txt": "y"})

    assert error.path == f"{folder}/b.txt"
    assert "is outside the single top folder {{cookiecutter._target}}" in str(error)


def test_files_beside_the_top_folder_are_not_rendered():
    assert render({TOP + "a.txt": "x", "README.md": "About this template {{ oops }}"}) == {"a.txt": "x"}


# --- YAML and Jinja errors ----------------------------------------------------------------------------------


def test_a_skeleton_rendering_invalid_yaml_is_refused_naming_the_template_and_the_file():
    with pytest.raises(TemplateRenderError) as caught:
        skeleton_render(
            files=skeleton_files("invalid_yaml"), values={"title": "T"}, meta=META, template_name="dataproduct"
        )

    assert caught.value.template == "dataproduct"
    assert caught.value.path == "components/catalog-info.yaml"
    assert str(caught.value).startswith(
        "template dataproduct: components/catalog-info.yaml does not render valid YAML: line "
    )


@pytest.mark.parametrize(
    "text",
    ["a: 1\na: 2\n", "a: !!python/name:os.system x\n", "when: 2024-01-01\n---\n- &a [*a]\n", "a: [1, 2\n"],
)
def test_rendered_yaml_is_loaded_with_the_safe_loader(text):
    error = render_error({TOP + "x.yml": text})

    assert str(error).startswith("template tests: x.yml does not render valid YAML: ")


def test_yaml_files_may_hold_several_documents():
    rendered = render({TOP + "catalog-info.yaml": "a: 1\n---\nb: 2\n"})

    assert load_all(rendered["catalog-info.yaml"]) == [{"a": 1}, {"b": 2}]


def test_a_jinja_syntax_error_names_the_file_and_the_line():
    error = render_error({TOP + "docs/a.md": "fine\n{% if %}\n"})

    assert error.path == "docs/a.md"
    assert str(error).startswith("template tests: docs/a.md has a Jinja syntax error at line 2: ")


def test_an_undefined_variable_names_the_file_and_the_line():
    error = render_error({TOP + "a.yaml": "a: 1\nb: {{ cookiecutter._meta.nope }}\n"})

    assert str(error) == "template tests: a.yaml fails to render at line 2: 'dict object' has no attribute 'nope'"


def test_cookiecutter_variables_other_than_meta_and_values_do_not_exist():
    error = render_error({TOP + "a.txt": "{{ cookiecutter.project_name }}"})

    assert "has no attribute 'project_name'" in str(error)


def test_a_render_error_survives_pickling():
    error = render_error({TOP + "a.yaml": "a: [\n"})

    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes, as Celery's result backend does

    assert (copy.template, copy.path, str(copy)) == (error.template, error.path, str(error))
