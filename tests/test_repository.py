"""The README's promises to a newcomer stay true: .ci/run runs its test command verbatim; and the
documentation's module lists (docs/design.md, docs/api/index.md) name the package's modules, in the
layers the import contract checks."""

from __future__ import annotations

import ast
import re
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: import-linter brings tomli
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]


def test_ci_runs_the_readme_test_command():
    readme = ROOT.joinpath("README.md").read_text()
    lines = ROOT.joinpath(".ci", "run").read_text().splitlines()
    commands = [line for line in lines if "pytest" in line and not line.lstrip().startswith("#")]
    assert len(commands) == 1
    assert commands[0].strip() in readme


def test_readme_gives_the_setup_and_run_command():
    assert "pip install . && vowels reproduce" in ROOT.joinpath("README.md").read_text()


def test_ci_runs_the_quality_gates_before_the_tests():
    command = next(line for line in ROOT.joinpath(".ci", "run").read_text().splitlines() if line.startswith("python3"))
    assert command.index("scripts/check --lint") < command.index("python -m pytest")


# --- the module lists of the documentation match the package and its imports --------------------------

PACKAGE = ROOT / "vowels"
DESIGN = ROOT / "docs" / "design.md"
API = ROOT / "docs" / "api"
HEAVY = ("keras", "tensorflow", "librosa", "sklearn", "matplotlib")


def _package_modules() -> set[str]:
    """The modules and subpackages of `vowels`, but its ``__init__`` and ``__main__``."""
    files = {p.stem for p in PACKAGE.glob("*.py") if not p.stem.startswith("__")}
    return files | {p.parent.name for p in PACKAGE.glob("*/__init__.py")}


def _design_modules() -> list[str]:
    """The modules docs/design.md's tables name, in their order; each linked one must link to itself."""
    text = DESIGN.read_text()
    table = text[text.index("## Modules") :].split("\n## ")[0]
    modules = []
    for row in table.splitlines():
        if not row.startswith("| ") or row.startswith("| module"):
            continue
        cell = row.split("|")[1]
        for name, target in re.findall(r"\[`(\w+)`\]\[vowels\.(\w+)\]", cell):
            assert name == target, f"docs/design.md: [`{name}`] links to vowels.{target}"
        modules += re.findall(r"`(\w+)`", cell)
    return modules


def _imports(path: Path) -> list[tuple[str, str, bool]]:
    """(module imported, as written, whether it is imported when `path` loads) for every import in `path`;
    imports inside a function or under ``if TYPE_CHECKING`` are not imported when it loads."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    package = parts[:-1]  # a module's package; for an __init__.py, the package it is
    found = []

    def visit(node: ast.AST, at_load: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ImportFrom):
                base = package[: len(package) - child.level + 1] if child.level else []
                module = ".".join([*base, *([child.module] if child.module else [])])
                names = [f"{module}.{a.name}" for a in child.names] if child.module is None else [module]
                found.extend((name, ast.unparse(child), at_load) for name in names)
            elif isinstance(child, ast.Import):
                found.extend((a.name, ast.unparse(child), at_load) for a in child.names)
            else:
                lazy = isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) or (
                    isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test)
                )
                visit(child, at_load and not lazy)

    visit(ast.parse(path.read_text()), True)
    return found


def test_design_lists_every_module_of_the_package_once():
    listed = _design_modules()
    assert len(listed) == len(set(listed)), f"listed twice: {sorted(m for m in listed if listed.count(m) > 1)}"
    missing, stale = sorted(_package_modules() - set(listed)), sorted(set(listed) - _package_modules())
    assert not missing, f"modules of vowels/ that docs/design.md does not list: {missing}"
    assert not stale, f"docs/design.md lists modules vowels/ does not have: {stale}"


def test_the_import_contract_checks_the_layers_of_the_design_in_its_order():
    """docs/design.md's claim: each module imports only those before it. import-linter's layers contract
    (run by scripts/check --lint) checks it; here, that the contract's layers are the document's modules,
    highest first, so the two cannot drift apart."""
    config = tomllib.loads(ROOT.joinpath("pyproject.toml").read_text())["tool"]["importlinter"]
    (contract,) = config["contracts"]
    assert (config["root_package"], contract["type"], contract["containers"]) == ("vowels", "layers", ["vowels"])
    assert contract["layers"] == _design_modules()[::-1]
    assert "exclude_type_checking_imports" not in config  # imports for type checking count too
    assert "lint-imports" in ROOT.joinpath("scripts", "check").read_text()


def test_the_fast_engine_imports_no_heavy_library_when_it_loads():
    """docs/design.md: the NumPy engine (inference, dsp; with preprocessing and openset) imports neither
    TensorFlow nor librosa; scikit-learn and matplotlib stay out of it too."""
    for name in ("inference", "dsp", "preprocessing", "openset"):
        heavy = [s for m, s, at_load in _imports(PACKAGE / f"{name}.py") if at_load and m.split(".")[0] in HEAVY]
        assert not heavy, f"vowels/{name}.py imports when it loads: {heavy}"


def test_api_index_names_the_modules_each_page_documents():
    index = (API / "index.md").read_text()
    rows = re.findall(r"^\| \[[^]]+\]\((\w+\.md)\) \| (.+) \|$", index, flags=re.MULTILINE)
    assert rows, "docs/api/index.md has no table of pages"
    for page, cell in rows:
        named = re.findall(r"`(\w+)`", cell)
        documented = re.findall(r"^::: vowels\.(\w+)$", (API / page).read_text(), flags=re.MULTILINE)
        assert sorted(named) == sorted(documented), f"docs/api/index.md's row of {page}"
        assert set(named) <= _package_modules(), f"docs/api/{page} documents modules vowels/ does not have"


RETIRED_NAMES = {
    "family": "architecture",
    "families": "architectures",
    "FamilyEnsemble": "RecipeEnsemble",
    "normalization": "standardization",
    "Normalization": "Standardization",
    "features_": "feature_config_",
    "score_on_test_set": "evaluate_on_test_set",
    "score_test_set": "evaluate_test_set",
}
"""Names that meant two things, and the one word each became (docs/design.md, Names)."""


def _identifiers(tree: ast.AST) -> set[str]:
    """Every name a module defines or reads: variables, attributes, functions, classes, arguments, keywords."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.Attribute):
            found.add(node.attr)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found.add(node.name)
        elif isinstance(node, ast.arg) or isinstance(node, ast.keyword) and node.arg:
            found.add(node.arg)
        elif isinstance(node, ast.alias):
            found.add(node.asname or node.name.rsplit(".", 1)[-1])
    return found


def _feature_config_parameters(tree: ast.AST) -> set[str]:
    """Parameters and dataclass fields annotated as a `FeatureConfig`."""
    found: set[str] = set()
    for node in ast.walk(tree):
        annotation = getattr(node, "annotation", None)
        if annotation is None or "FeatureConfig" not in ast.unparse(annotation):
            continue
        if isinstance(node, ast.arg):
            found.add(node.arg)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            found.add(node.target.id)
    return found


def test_names_that_meant_two_things_are_gone_from_the_package():
    used: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        where = str(path.relative_to(ROOT))
        for name in _identifiers(tree) & set(RETIRED_NAMES):
            used.setdefault(f"{name} (now {RETIRED_NAMES[name]})", []).append(where)
        params = {a.arg for a in ast.walk(tree) if isinstance(a, ast.arg)}
        if "backend" in params:
            used.setdefault("parameter backend (now dsp)", []).append(where)
        if "features" in _feature_config_parameters(tree):
            used.setdefault("a FeatureConfig named features (now feature_config)", []).append(where)
    assert not used, used
    assert "## Names" in (ROOT / "docs" / "design.md").read_text(encoding="utf-8")
