"""``python -m evaluation compare``: every registered metric of a synthetic folder against a real folder.

Both folders are read recursively, converted to 8-bit gray and resized to ``--size`` by the shared resize
(`evaluation.images`). Set values go to stdout as a table, or as JSON with ``--json`` (non-finite numbers
as the strings "inf", "-inf", "nan", since JSON has no such numbers); ``--per-image CSV`` writes one row
per synthetic image. Progress bars go to stderr. Bad input exits with status 2 and one line on stderr.
``python -m evaluation metrics`` lists the registry.
``python -m evaluation mrmc RATINGS.csv`` is the Obuchowski-Rockette MRMC ROC analysis with Hillis' degrees
of freedom of a fully crossed ratings CSV (`evaluation.mrmc`; columns reader, case, truth, score, modality).
``python -m evaluation mrmc-power RATINGS.csv --effect 0.05`` plans a study from a pilot (`evaluation.mrmc_power`).
"""

import argparse
import json
import math
import sys

import numpy as np

from evaluation import mrmc_power
from evaluation.images import EvaluationInputError, load_image_folder
from evaluation.inception import FeatureExtractorUnavailable
from evaluation.mrmc import COVARIANCES, MRMCInputError, or_hillis, read_ratings, result_table
from evaluation.reference_cache import ReferenceCache, default_cache_folder
from evaluation.registry import METRICS, compute_metrics, per_image_table, resolve_metric_names
from synthesis.preprocessing import RESIZE_MODES, TRAINING_SIZES


def build_parser():
    parser = argparse.ArgumentParser(prog="python -m evaluation", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    compare = commands.add_parser("compare", help="score a synthetic image folder against a real one")
    compare.add_argument("--real", required=True, help="folder of real (training, non-augmented) images")
    compare.add_argument("--synthetic", required=True, help="folder of synthetic images")
    compare.add_argument("--size", type=int, required=True, choices=TRAINING_SIZES, help="matched resolution (px)")
    compare.add_argument("--resize-mode", default="stretch", choices=RESIZE_MODES)
    compare.add_argument(
        "--metrics",
        default=",".join(METRICS),
        help=f"comma-separated registry names (default: all): {','.join(METRICS)}",
    )
    compare.add_argument("--json", action="store_true", help="print JSON instead of a table")
    compare.add_argument("--per-image", metavar="CSV", help="write per-image values to this CSV file")
    compare.add_argument(
        "--cache",
        metavar="DIR",
        default=str(default_cache_folder()),
        help="reference-feature cache folder (default: %(default)s)",
    )
    compare.add_argument("--seed", type=int, default=0, help="seed of every random draw (default: 0)")
    compare.add_argument("--batch-size", type=int, default=50, help="Inception batch size (default: 50)")
    compare.add_argument(
        "--lbp-reference-count",
        type=int,
        default=800,
        help="real images averaged into rLBPv (default: 800, as in the reference study)",
    )
    compare.add_argument("--quiet", action="store_true", help="no progress bars")
    commands.add_parser("metrics", help="list the registered metrics")
    mrmc = commands.add_parser("mrmc", help="OR-Hillis MRMC ROC analysis of a ratings CSV")
    mrmc.add_argument("ratings", help="CSV with columns reader, case, truth (1/0), score and optionally modality")
    mrmc.add_argument("--json", action="store_true", help="print JSON instead of a table")
    mrmc.add_argument("--covariance", default="jackknife", choices=COVARIANCES, help="AUC covariance over cases")
    mrmc.add_argument("--alpha", type=float, default=0.05, help="significance level (default: 0.05)")
    mrmc_power.add_command(commands)
    return parser


def main(argv=None):
    arguments = build_parser().parse_args(argv)
    if arguments.command == "metrics":
        for name, spec in METRICS.items():
            print(f"{name:<20}{spec.version:<34}{spec.description}")
        return 0
    if arguments.command == "mrmc":
        return mrmc(arguments)
    if arguments.command == "mrmc-power":
        return mrmc_power.run_command(arguments)
    try:
        return compare(arguments)
    except (EvaluationInputError, FeatureExtractorUnavailable) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def compare(arguments):
    names = resolve_metric_names([name.strip() for name in arguments.metrics.split(",") if name.strip()])
    progress = not arguments.quiet
    real = load_image_folder(arguments.real, arguments.size, arguments.resize_mode, progress=progress)
    synthetic = load_image_folder(arguments.synthetic, arguments.size, arguments.resize_mode, progress=progress)
    for label, image_set in (("real", real), ("synthetic", synthetic)):
        for note, count in image_set.conversion_notes.items():
            print(f"note: {count} {label} image(s): {note}", file=sys.stderr)
    results = compute_metrics(
        real,
        synthetic,
        names,
        cache=ReferenceCache(arguments.cache),
        seed=arguments.seed,
        batch_size=arguments.batch_size,
        progress=progress,
        options={"lbp": {"reference_count": arguments.lbp_reference_count}},
    )
    if arguments.per_image:
        per_image_table(results, synthetic).to_csv(arguments.per_image, index=False)
    header = {
        "real": {"folder": arguments.real, "images": len(real)},
        "synthetic": {"folder": arguments.synthetic, "images": len(synthetic)},
        "size": arguments.size,
        "resize_mode": arguments.resize_mode,
        "seed": arguments.seed,
    }
    if arguments.json:
        metrics = {
            name: {
                "version": result.version,
                "values": result.values,
                "tables": {title: table.to_dict(orient="records") for title, table in result.tables.items()},
            }
            for name, result in results.items()
        }
        print(json.dumps(_finite_json({**header, "metrics": metrics}), indent=2))
    else:
        print(
            f"real: {arguments.real} ({len(real)} images)   synthetic: {arguments.synthetic} "
            f"({len(synthetic)} images)   {arguments.size} px, {arguments.resize_mode}"
        )
        print(f"{'metric':<20}{'value':<22}{'':>14}")
        for name, result in results.items():
            for value_name, value in result.values.items():
                print(f"{name:<20}{value_name:<22}{value:>14.6g}")
    return 0


def mrmc(arguments):
    try:
        result = or_hillis(read_ratings(arguments.ratings), covariance=arguments.covariance, alpha=arguments.alpha)
    except MRMCInputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(_finite_json(result), indent=2) if arguments.json else result_table(result))
    return 0


def _finite_json(value):
    """``value`` with numpy scalars as Python numbers and non-finite floats as strings."""
    if isinstance(value, dict):
        return {key: _finite_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_json(item) for item in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value
