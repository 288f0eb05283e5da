"""`vowels evaluate`: a saved model scored on the Japanese Vowels test set or on a labelled folder of
recordings, said in lines or as JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import UsageError
from .console import Console, ExitStatus, status
from .models import open_model

__all__ = ["evaluate"]


def evaluate(
    console: Console,
    *,
    model: str,
    dir: str | None,
    data: str | None,
    threshold: float | None,
    workers: int,
    json: bool,
) -> int:
    """Score a model bundle: one from 'vowels reproduce' on the Japanese Vowels test set, one from
    'vowels train' on a folder of recordings DIR/<speaker>/* (speakers it does not know should be answered
    'unknown'). Prints the accuracy and each wrong answer (--json: as JSON); writes nothing. The folder may be
    given as DIR or, as for 'vowels report', as --data DIR."""
    if dir is not None and data is not None and Path(dir) != Path(data):
        raise UsageError(
            f"DIR {dir} and --data {data} both name the data to score; give one (see 'vowels evaluate --help')"
        )
    opened = open_model(model)
    if opened.kind == "voiceprints" and dir is None and data is None:
        raise UsageError(f"{model} is a model from 'vowels enrol'; give a folder DIR of recordings to score")
    if opened.reads_recordings and dir is None:
        dir = data  # a model of recordings scores a folder of them, whichever way it is named
    if dir is None:
        scores = opened.evaluate_test_set(data)
        test, evaluation = scores.test, scores.evaluation
        errors = [
            {"source": source, "true": str(true), "answer": str(answer), "probability": float(p.max())}
            for source, true, answer, p in zip(test.sources, test.labels, scores.predicted, scores.probabilities)
            if answer != true
        ]
        if json:
            console.json({"model": str(model), "data": data, **evaluation.to_dict(), "errors": errors})
            return ExitStatus.SUCCESS
        console.result(
            f"Test accuracy: {100 * evaluation.accuracy:.2f}% ({evaluation.n - evaluation.n_errors}/{evaluation.n}), "
            f"model {model}"
        )
        console.note(
            f"Misclassified: {len(errors)} of {evaluation.n} test utterances{':' if errors else '.'}",
            *(f"  {e['source']}: true {e['true']}, answer {e['answer']} (p={e['probability']:.3f})" for e in errors),
        )
        return ExitStatus.SUCCESS
    extraction: dict[str, Any] = {}  # voiceprints embed each recording whole, with no features to extract
    if opened.kind == "recordings":
        extraction = {"n_jobs": console.workers(workers), "progress": console.progress("Extracting features")}
    ev, failures = opened.load_recordings().evaluate_folder(dir, threshold=threshold, **extraction)
    console.skipped(failures)
    if json:
        console.json({"model": str(model), "folder": str(dir), **ev.to_dict()})
        return status(failures)
    console.note(
        f"Model {model}, folder {dir}: {ev.n_enrolled} recordings of enrolled speakers, "
        f"{ev.n_strangers} of speakers the model does not know ({', '.join(ev.strangers) or 'none'})."
    )
    if ev.closed_set is not None:
        closed = ev.closed_set
        console.result(
            f"Closed-set accuracy: {100 * closed.accuracy:.2f}% ({closed.n - closed.n_errors}/{closed.n} recordings "
            "of enrolled speakers named correctly, no threshold)"
        )
        for i, name in enumerate(closed.speakers):
            if closed.support[i]:
                console.note(f"  {name}: recall {100 * closed.recall[i]:.1f}% of {closed.support[i]}")
        console.result(
            f"At threshold {ev.threshold:.3f}: enrolled speakers' recordings named correctly "
            f"{100 * ev.identified:.2f}%, rejected as unknown {100 * ev.false_rejection:.2f}%, "
            f"misnamed {100 * ev.misnamed:.2f}%"
        )
    if ev.true_rejection is not None:
        rejected = sum(r for r, _ in ev.strangers.values())
        console.result(f"Strangers rejected: {100 * ev.true_rejection:.2f}% ({rejected}/{ev.n_strangers} recordings)")
        for name, (r, n) in ev.strangers.items():
            console.note(f"  {name}: {r}/{n} rejected")
    if ev.equal_error_rate is not None:
        console.result(f"Equal error rate: {100 * ev.equal_error_rate:.2f}% (over every threshold)")
    console.note(
        f"Wrong answers at threshold {ev.threshold:.3f}: {len(ev.errors)} of {len(ev.rows)} recordings"
        f"{':' if ev.errors else '.'}",
        *(
            f"  {e['source']}: true {e['true']}, answer {e['answer']} ({e['outcome']}, score {e['score']:.3f}"
            f"{'' if e['answer'] == e['nearest'] else ', nearest ' + e['nearest']})"
            for e in ev.errors
        ),
    )
    return status(failures)
