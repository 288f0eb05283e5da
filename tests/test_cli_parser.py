"""The shape of `vowels.cli`: each command's arguments built beside its handler, choices taken from the
library's constants, listed in one order wherever they appear."""

import argparse
import ast
import inspect

import pytest

from vowels import cli, names, recipes

CHOICES = {
    ("reproduce", "mode"): names.MODES,
    ("reproduce", "recipe"): recipes.RECIPE_NAMES,
    ("reproduce", "plots"): ("none", "training-progress"),  # the command line's own: no library constant
    ("plot", "format"): names.FORMATS,
    ("plot", "kind"): names.FEATURE_KINDS,
    ("extract", "kind"): names.FEATURE_KINDS,
    ("train", "mode"): names.MODES,
    ("train", "architecture"): names.RECURRENT,
    ("train", "kind"): names.FEATURE_KINDS,
    ("train", "plots"): ("none", "training-progress"),
    ("classify", "engine"): names.ENGINES,
}


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def _options_with_choices() -> dict[tuple[str, str], argparse.Action]:
    return {
        (name, action.dest): action
        for name, parser in _subcommands().items()
        for action in parser._actions
        if action.choices is not None
    }


def _top_level_functions() -> list[str]:
    tree = ast.parse(inspect.getsource(cli))
    return [node.name for node in tree.body if isinstance(node, ast.FunctionDef)]


def test_every_choice_is_the_library_constant_in_its_order():
    found = _options_with_choices()
    assert set(found) == set(CHOICES)
    for key, action in found.items():
        assert tuple(action.choices) == CHOICES[key], key
        assert action.default is None or action.default in action.choices, key


def test_an_option_offers_the_same_choices_in_every_command():
    by_option: dict[str, set] = {}
    for (_, dest), action in _options_with_choices().items():
        by_option.setdefault(dest, set()).add(tuple(action.choices))
    assert {dest: len(choices) for dest, choices in by_option.items()} == dict.fromkeys(by_option, 1)


def test_the_light_names_are_the_ones_the_library_checks():
    from vowels import features, inference, model, recordings

    assert features.FEATURE_KINDS is names.FEATURE_KINDS
    assert model.MODES is names.MODES
    assert inference.MODES == names.MODES
    assert tuple(recordings.ENGINES) == names.ENGINES


@pytest.mark.parametrize("name", list(_subcommands()))
def test_each_command_is_built_beside_its_handler(name):
    functions = _top_level_functions()
    add, run = f"add_{name}", f"run_{name}"
    assert add in functions and run in functions
    assert functions[functions.index(add) + 1] == run, "add_X sits right before run_X"
    assert _subcommands()[name].get_default("handler") is getattr(cli, run)


def test_every_add_and_run_function_is_a_command_in_file_order():
    functions = _top_level_functions()
    adds = [f.removeprefix("add_") for f in functions if f.startswith("add_")]
    runs = [f.removeprefix("run_") for f in functions if f.startswith("run_")]
    assert adds == runs == list(_subcommands())


def test_build_parser_only_assembles_the_commands():
    source = inspect.getsource(cli.build_parser)
    assert len(source.splitlines()) < 25
    assert "add_parser(" not in source and "choices=" not in source, "a command's arguments belong in its add_X"


def test_default_output_folders_are_outside_the_repositorys_tracked_folders():
    """A command run in a clone without --out writes where git ignores it (runs/), never into reports/, docs/,
    vowels/ or tests/."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    ignored = [line.strip().rstrip("/") for line in (root / ".gitignore").read_text().splitlines() if line.strip()]
    defaults = {
        name: action.default
        for name, parser in _subcommands().items()
        for action in parser._actions
        if "--out" in action.option_strings and action.default is not None
    }
    assert defaults  # vowels reproduce has one
    for name, default in defaults.items():
        assert Path(default).parts[0] in ignored, f"vowels {name}: --out defaults to {default}, which git tracks"
