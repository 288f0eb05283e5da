"""Checks of the values a user passes, each kind written once in one wording, ``NAME must be ALLOWED; got VALUE.``;
importable at once (no NumPy), so the command line's argparse types are the same checks (`argument_type`)."""

from __future__ import annotations

import numbers
from collections.abc import Callable, Collection
from typing import Any, cast

from .errors import ParameterError
from .limits import MAX_SEED

__all__ = [
    "argument_type",
    "check_choice",
    "check_int",
    "check_number",
    "check_seed",
    "check_seconds",
    "check_threshold",
    "check_verbose",
    "refuse",
]


def refuse(name: str, value: object, allowed: str) -> ParameterError:
    """The error for `value` of parameter `name`: ``NAME must be ALLOWED; got VALUE.`` (a long value cut at 80
    characters); without a name (an argparse type, where argparse names the option) ``must be ALLOWED; got VALUE``."""
    shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:77] + "..."
    return ParameterError(f"{name} must be {allowed}; got {shown}." if name else f"must be {allowed}; got {shown}")


def _show(bound: float) -> str:
    """A bound as written: ``1``, ``0.5``."""
    return str(bound) if isinstance(bound, int) else f"{bound:g}"


def _span(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    """The allowed range in words: ``>= 1``, ``> 0``, ``from 0 to 10``, ``in [0, 1)``."""
    if low is not None and high is not None:
        if not (low_open or high_open):
            return f" from {_show(low)} to {_show(high)}"
        return f" in {'(' if low_open else '['}{_show(low)}, {_show(high)}{')' if high_open else ']'}"
    if low is not None:
        return f" {'>' if low_open else '>='} {_show(low)}"
    return "" if high is None else f" {'<' if high_open else '<='} {_show(high)}"


def check_number(
    value: object,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    unit: str = "",
    none_ok: bool = False,
    hint: str = "",
    whole: bool = False,
) -> None:
    """Refuse `value` unless it is a real number (a whole one if `whole`; NumPy's too; never a bool or NaN)
    between `low` and `high` (excluded where `low_open`, `high_open`), or None when `none_ok`; `unit`
    (``"s"``) and a `hint` (what else is allowed) are said in the message."""
    if value is None and none_ok:
        return
    if isinstance(value, numbers.Integral if whole else numbers.Real) and not isinstance(value, bool):
        x = cast(float, value)
        if (low is None or x > low or (x == low and not low_open)) and (
            high is None or x < high or (x == high and not high_open)
        ):
            return
    allowed = f"a {'whole ' if whole else ''}number{f' of {unit}' if unit else ''}"
    allowed += _span(low, high, low_open, high_open) + (" or None" if none_ok else "") + (f" ({hint})" if hint else "")
    raise refuse(name, value, allowed)


def check_int(
    value: object, name: str, *, low: int | None = 1, high: int | None = None, unit: str = "", **options: Any
) -> None:
    """Refuse `value` unless it is a whole number from `low` (default 1) to `high` (`check_number`'s `options`)."""
    check_number(value, name, low=low, high=high, unit=unit, whole=True, **options)


def check_seconds(value: object, name: str, *, none_ok: bool = False, hint: str = "") -> None:
    """Refuse `value` unless it is a duration in s > 0 (or None when `none_ok`)."""
    check_number(value, name, low=0, low_open=True, unit="s", none_ok=none_ok, hint=hint)


def check_threshold(value: object, name: str = "threshold", *, low: float = -1.0, auto: bool = False) -> None:
    """Refuse `value` unless it is an unknown-speaker threshold: a score in [`low`, 1] (-1 for open-set
    scores, 0 for a model that scores with probabilities), or the word ``"auto"`` when `auto`."""
    if auto and value == "auto":
        return
    if isinstance(value, numbers.Real) and not isinstance(value, bool) and low <= cast(float, value) <= 1:
        return
    allowed = f"a score in [{_show(low)}, 1]" + (" or 'auto'" if auto else "")
    raise refuse(name, value, allowed if low == -1 else f"{allowed} for this model (it scores probabilities)")


def check_seed(seed: object, n_seeds: int = 1, *, name: str = "seed") -> None:
    """Refuse seeds NumPy and Keras would reject (`seed` .. `seed` + `n_seeds` - 1), before any work."""
    check_int(seed, name, low=0, high=MAX_SEED)
    last = cast(int, seed) + n_seeds - 1
    if last > MAX_SEED:
        raise ParameterError(f"seeds {seed}..{last} go above the largest seed {MAX_SEED}; lower {name} or n_seeds.")


def check_verbose(verbose: object, *, name: str = "verbose") -> None:
    """Refuse anything but a whole number >= 0 (above 1 counts as 1) or ``"auto"``."""
    if verbose != "auto" and not (isinstance(verbose, numbers.Integral) and int(verbose) >= 0):
        raise refuse(name, verbose, "0 (silent), 1 (progress) or 'auto'")


def check_choice(value: object, name: str, choices: Collection[object], *, hint: str = "") -> None:
    """Refuse `value` unless it is one of `choices`; a `hint` (what else to do) is said in the message."""
    if value not in choices:
        raise refuse(name, value, f"one of {list(choices)}" + (f" ({hint})" if hint else ""))


def argument_type(convert: Callable[[str], Any], check: Callable[..., None], **bounds: Any) -> Callable[[str], Any]:
    """An argparse type: the text `convert`-ed (``int``, ``float``), then `check`-ed with `bounds`; a refusal is
    `check`'s without a name (argparse names the option), showing the text as typed."""
    import argparse

    def parse(text: str) -> Any:
        try:
            value = convert(text)
            check(value, "", **bounds)
            return value
        except ValueError:
            try:
                check(text, "", **bounds)
            except ParameterError as exc:
                raise argparse.ArgumentTypeError(str(exc)) from None
            raise

    parse.__name__ = getattr(check, "__name__", "value").removeprefix("check_")
    return parse
