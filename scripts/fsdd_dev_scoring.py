"""Can any encoder scoring and threshold rule meet issue 23's FSDD goal on the development split?

Usage: python scripts/fsdd_dev_scoring.py [--fsdd ../shared/data/fsdd] [--out reports]

The goal: 5 speakers enrolled with 50 recordings each (repetitions 10-14), each of the six the
stranger in turn, strangers rejected >= 95 % and enrolled recordings rejected <= 5 %. Here it is
asked of the development repetitions 30-39 only (the test repetitions 40-49 are not read), for
the speaker encoder's scorings (`vowels.voiceprints.SCORINGS`, the whitening's regularisation
and number of nearest recordings) and threshold rules (`vowels.openset.choose_threshold`) that
the package can be set to, with short recordings placed in the encoder's one partial as
Resemblyzer does (zero-padded after) and as vowels does (the mean of four placements,
`vowels.speaker_encoder.placements`). The equal error rate of a scoring bounds every rule: a scoring whose
EER is above 5 % cannot meet both rates at any threshold. Writes reports/fsdd_dev_scoring.md
and .json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SPEAKERS = ("george", "jackson", "lucas", "nicolas", "theo", "yweweler")
ENROL, SCORE = range(10, 15), range(30, 40)
RULES = ("eer", "far=0.01", "far=0.02", "far=0.05")
VARIANTS = [("cosine", None, None), ("cohort", None, None)] + [
    ("wccn", reg, k) for reg in (0.3, 1.0, 3.0) for k in (1, 5, 10)
]


def embeddings(fsdd: Path) -> dict[str, dict[tuple[str, int, int], np.ndarray]]:
    """The encoder's embedding of every enrolment and development recording, by (speaker, digit, repetition):
    as Resemblyzer places a short recording in its one partial, and as vowels does (four placements)."""
    from vowels.audio import read_audio
    from vowels.speaker_encoder import SAMPLE_RATE, load_encoder, normalize_volume
    from vowels.voice_activity import drop_long_pauses

    encoder = load_encoder()
    out: dict[str, dict] = {"resemblyzer": {}, "four placements": {}}
    for key in [(s, d, n) for s in SPEAKERS for d in range(10) for n in (*ENROL, *SCORE)]:
        samples = read_audio(fsdd / key[0] / f"{key[1]}_{key[0]}_{key[2]}.wav", sr=SAMPLE_RATE, backend="numpy")
        prepared, _ = drop_long_pauses(normalize_volume(samples), SAMPLE_RATE)
        out["resemblyzer"][key] = encoder.embed_waveform(prepared).vector
        out["four placements"][key] = encoder.embed_samples(samples).vector
    return out


def measure(vectors: dict, scoring: str, regularization: float | None, neighbours: int | None) -> dict:
    """Development EER and, per threshold rule, the rates at the threshold from enrolment alone (means of 6)."""
    from vowels import voiceprints
    from vowels.openset import choose_threshold, equal_error_rate

    if regularization is not None:
        voiceprints.WCCN_REGULARIZATION, voiceprints.WCCN_NEIGHBOURS = regularization, neighbours
    rows = []
    for stranger in SPEAKERS:
        enrolled = [s for s in SPEAKERS if s != stranger]
        keys = [(s, d, n) for s in enrolled for d in range(10) for n in ENROL]
        e, labels = np.array([vectors[k] for k in keys]), np.array([k[0] for k in keys])
        scorer = voiceprints.VoiceprintScorer.fit(e, labels, enrolled, scoring)
        genuine, impostor = voiceprints.calibration_scores(e, labels, scoring)

        def best(speakers: list[str], scorer=scorer) -> np.ndarray:
            return scorer.scores(np.array([vectors[s, d, n] for s in speakers for d in range(10) for n in SCORE]))

        own, strange = best(enrolled).max(axis=1), best([stranger]).max(axis=1)
        row = {"equal_error_rate": equal_error_rate(own, strange)[0]}
        for rule in RULES:
            threshold = choose_threshold(genuine, impostor, rule).threshold
            row[rule] = (float(np.mean(own < threshold)), float(np.mean(strange < threshold)))
        rows.append(row)
    return {
        "equal_error_rate": float(np.mean([r["equal_error_rate"] for r in rows])),
        "rules": {rule: np.mean([r[rule] for r in rows], axis=0).tolist() for rule in RULES},
    }


def markdown(results: list[dict]) -> str:
    lines = [
        "# FSDD development split: encoder scorings and threshold rules",
        "",
        "Made by `python scripts/fsdd_dev_scoring.py`. Five speakers enrolled with repetitions 10-14 of every digit",
        "(50 recordings each), scored on repetitions 30-39, each of the six speakers the stranger in turn (means",
        "of 6); the test repetitions 40-49 are not read. Goal of issue 23: enrolled rejected <= 5 % and strangers",
        "rejected >= 95 %. Cells: enrolled rejected / strangers rejected at the threshold each rule takes from the",
        "enrolment recordings alone. Short recordings: placed in the encoder's 1.6 s partial as Resemblyzer does",
        "(zero-padded after) or as vowels does (`vowels.speaker_encoder.placements`: the mean of four placements).",
        "",
        "| short recordings | scoring | regularisation | nearest | EER | " + " | ".join(RULES) + " |",
        "|---|---|---|---|---|" + "---|" * len(RULES),
    ]
    for r in results:
        cells = [f"{100 * a:.1f} / {100 * b:.1f}" for a, b in (r["rules"][rule] for rule in RULES)]
        setting = [r["placement"], r["scoring"], r["regularization"] or "", r["neighbours"] or ""]
        cells = [*map(str, setting), f"{100 * r['equal_error_rate']:.1f} %", *cells]
        lines.append("| " + " | ".join(cells) + " |")
    best = min(results, key=lambda r: r["equal_error_rate"])
    lines += [
        "",
        f"Lowest development EER: {100 * best['equal_error_rate']:.1f} % ({best['placement']}, {best['scoring']}"
        + (f", regularisation {best['regularization']}, {best['neighbours']} nearest" if best["neighbours"] else "")
        + "). Where it is above 5 %, no threshold meets both rates of the goal on this split.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fsdd", type=Path, default=ROOT.parent / "shared" / "data" / "fsdd")
    parser.add_argument("--out", type=Path, default=ROOT / "reports")
    args = parser.parse_args()
    results = []
    for placement, vectors in embeddings(args.fsdd).items():
        for scoring, regularization, neighbours in VARIANTS:
            found = measure(vectors, scoring, regularization, neighbours)
            results.append(
                {"placement": placement, "scoring": scoring, "regularization": regularization, "neighbours": neighbours}
                | found
            )
            print(f"{placement} {scoring} {regularization} {neighbours}: {found}", file=sys.stderr, flush=True)
    (args.out / "fsdd_dev_scoring.json").write_text(json.dumps(results, indent=1) + "\n")
    (args.out / "fsdd_dev_scoring.md").write_text(markdown(results))


if __name__ == "__main__":
    main()
