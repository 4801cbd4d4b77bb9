"""``python -m evaluation compare``: every registered metric of a synthetic folder against a real folder.

Both folders are read recursively, converted to 8-bit gray and resized to ``--size`` by the shared resize
(`evaluation.images`). Set values go to stdout as a table, or as JSON with ``--json`` (non-finite numbers
as the strings "inf", "-inf", "nan", since JSON has no such numbers); ``--per-image CSV`` writes one row
per synthetic image. Progress bars go to stderr. Bad input exits with status 2 and one line on stderr.
``python -m evaluation metrics`` lists the registry.
``python -m evaluation mrmc RATINGS.csv`` is the Obuchowski-Rockette MRMC ROC analysis with Hillis' degrees
of freedom of a fully crossed ratings CSV (`evaluation.mrmc`; columns reader, case, truth, score, modality).
``python -m evaluation mrmc-power RATINGS.csv --effect 0.05`` (or ``--components JSON_FILE`` instead of a pilot
CSV) plans a reader study with `evaluation.mrmc_power`: the fewest cases for each reader count to reach a target
power, or with ``--n-readers`` and ``--n-cases`` the power of one design; as a table, or JSON with ``--json``.
"""

import argparse
import json
import math
import sys

import numpy as np
import pandas as pd

from evaluation import mrmc_power
from evaluation.images import EvaluationInputError, load_image_folder
from evaluation.inception import FeatureExtractorUnavailable
from evaluation.mrmc import COVARIANCES, VARIANCE_COMPONENTS, MRMCInputError, or_hillis
from evaluation.reference_cache import ReferenceCache, default_cache_folder
from evaluation.registry import METRICS, compute_metrics, per_image_table, resolve_metric_names
from synthesis.preprocessing import RESIZE_MODES, TRAINING_SIZES

MRMC_POWER_HELP = "plan a reader study: power, and readers x cases for a target power, from a pilot's OR components"


class PlanningInputError(ValueError):
    """Bad input to the ``mrmc-power`` command (reported in one line, exit status 2)."""


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
    planner = commands.add_parser("mrmc-power", help=MRMC_POWER_HELP, description=MRMC_POWER_HELP)
    planner.add_argument(
        "ratings",
        nargs="?",
        metavar="RATINGS.csv",
        help="pilot ratings: columns reader, case, truth (0/1), score, optional modality (as for `mrmc`)",
    )
    planner.add_argument(
        "--components",
        metavar="JSON_FILE",
        help="plan from published OR components instead: keys var_r, var_tr, cov1, cov2, cov3, var_error, pilot_cases",
    )
    planner.add_argument(
        "--effect",
        type=float,
        required=True,
        help="AUC difference to detect (difference), or the modality's AUC - 0.5 (vs_half)",
    )
    planner.add_argument(
        "--test",
        choices=mrmc_power.TESTS,
        default="difference",
        help="difference: two modalities' AUCs; vs_half: one modality's AUC against 0.5 (default: %(default)s)",
    )
    planner.add_argument(
        "--analysis",
        choices=mrmc_power.ANALYSES,
        default="rrrc",
        help="random readers and cases, fixed readers (frrc) or fixed cases (rrfc) (default: %(default)s)",
    )
    planner.add_argument(
        "--readers", default="2-20", help="reader counts: a range (2-20) or a list (4,6,8) (default: %(default)s)"
    )
    planner.add_argument("--target", type=float, default=0.8, help="target power (default: %(default)s)")
    planner.add_argument(
        "--alpha", type=float, default=0.05, help="two-sided significance level (default: %(default)s)"
    )
    planner.add_argument("--max-cases", type=int, default=2000, help="largest case count tried (default: %(default)s)")
    planner.add_argument(
        "--covariance",
        choices=COVARIANCES,
        default="jackknife",
        help="AUC covariance estimator of the pilot analysis (default: %(default)s)",
    )
    planner.add_argument(
        "--modality",
        help="with --test vs_half and a RATINGS.csv: plan from this modality's own components "
        "(default: the pooled OR components of all modalities)",
    )
    planner.add_argument("--n-readers", type=int, help="with --n-cases: only the power of this design")
    planner.add_argument("--n-cases", type=int, help="with --n-readers: only the power of this design")
    planner.add_argument("--json", action="store_true", help="print JSON instead of a table")
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
        return mrmc_power_command(arguments)
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
    for label, images in (("real", real), ("synthetic", synthetic)):
        for note, count in images.conversion_notes.items():
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


def read_ratings(path):
    """The ratings CSV at ``path``, reader, case and modality names read as strings; `MRMCInputError` if unreadable."""
    try:
        return pd.read_csv(path, dtype={"reader": str, "case": str, "modality": str})
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise MRMCInputError(f"cannot read the ratings file {path}: {reason}") from error


def result_table(result):
    """`or_hillis` output as a plain-text report (one table per modality, per comparison, the components)."""
    level = f"{1 - result['alpha']:.0%}"
    lines = [
        (
            f"OR-Hillis MRMC ROC analysis, {result['covariance']} covariance: {result['n_readers']} readers, "
            f"{result['n_cases']} cases ({result['n_positive']} positive, {result['n_negative']} negative)"
        ),
        "",
        (
            f"{'modality':<12}{'AUC':>8}  {'RRRC ' + level + ' CI':<19}{'df':>7}{'p(AUC=0.5)':>12}  "
            f"{'FRRC ' + level + ' CI':<19}"
        ),
    ]
    for modality in result["modalities"]:
        random, fixed = modality["rrrc"], modality["frrc"]
        lines.append(
            f"{modality['modality']:<12}{modality['auc']:>8.4f}  {random['low']:.4f} to {random['high']:.4f}  "
            f"{random['df']:>7.2f}{random['p_vs_half']:>12.3g}  {fixed['low']:.4f} to {fixed['high']:.4f}"
        )
    readers = list(result["modalities"][0]["readers"])
    lines += ["", "reader AUCs", f"{'reader':<12}" + "".join(f"{m['modality']:>12}" for m in result["modalities"])]
    for reader in readers:
        lines.append(f"{reader:<12}" + "".join(f"{m['readers'][reader]:>12.4f}" for m in result["modalities"]))
    if result["comparisons"]:
        lines += [
            "",
            (
                f"{'comparison':<16}{'difference':>11}  {'RRRC ' + level + ' CI':<21}{'F':>8}{'ddf':>8}{'p':>9}  "
                f"{'FRRC ' + level + ' CI':<21}{'chi2':>8}{'p':>9}"
            ),
        ]
        for comparison in result["comparisons"]:
            random, fixed = comparison["rrrc"], comparison["frrc"]
            pair = f"{comparison['modality_a']} - {comparison['modality_b']}"
            lines.append(
                f"{pair:<16}{comparison['difference']:>11.4f}  {random['low']:>8.4f} to {random['high']:>7.4f}  "
                f"{random['f']:>8.3f}{random['ddf']:>8.2f}{random['p']:>9.3g}  "
                f"{fixed['low']:>8.4f} to {fixed['high']:>7.4f}  {fixed['chisq']:>8.3f}{fixed['p']:>9.3g}"
            )
    components = result["variance_components"]
    lines += ["", "variance components: " + ", ".join(f"{name} {components[name]:.4g}" for name in VARIANCE_COMPONENTS)]
    return "\n".join(line.rstrip() for line in lines)


def mrmc_power_command(arguments):
    """Run ``mrmc-power``; returns the exit status (2 with one line on stderr for bad input)."""
    try:
        pilot, components, pilot_cases = _mrmc_power_pilot(arguments)
        settings = {
            "effect": arguments.effect,
            "test": arguments.test,
            "analysis": arguments.analysis,
            "alpha": arguments.alpha,
        }
        if (arguments.n_readers is None) != (arguments.n_cases is None):
            raise PlanningInputError("--n-readers and --n-cases go together")
        if arguments.n_readers is not None:
            design = mrmc_power.power(
                arguments.effect,
                arguments.n_readers,
                arguments.n_cases,
                components,
                pilot_cases,
                alpha=arguments.alpha,
                test=arguments.test,
                analysis=arguments.analysis,
            )
            table = None
        else:
            readers = parse_readers(arguments.readers)
            table = mrmc_power.sample_size_table(
                arguments.effect,
                components,
                pilot_cases,
                alpha=arguments.alpha,
                target=arguments.target,
                readers=readers,
                max_cases=arguments.max_cases,
                test=arguments.test,
                analysis=arguments.analysis,
            )
            design = None
    except (ValueError, OSError) as error:
        message = " ".join(str(error).split()) or type(error).__name__
        print(f"error: {message}", file=sys.stderr)
        return 2
    if arguments.json:
        report = {"pilot": {**pilot, "pilot_cases": pilot_cases, "components": components}, **settings}
        if design is not None:
            report["design"] = _finite_json(design)
        else:
            report.update(target=arguments.target, max_cases=arguments.max_cases, table=table)
        print(json.dumps(_finite_json(report), indent=2))
        return 0
    source = pilot.get("ratings") or pilot.get("components_file")
    described = f"{pilot['n_readers']} readers, " if pilot.get("n_readers") else ""
    print(
        f"pilot: {source} ({described}{pilot_cases:g} cases)   "
        + "  ".join(f"{key}={components[key]:.6g}" for key in mrmc_power.COMPONENT_KEYS)
    )
    test_name = "AUC difference" if arguments.test == "difference" else "AUC vs 0.5"
    print(f"test: {test_name}, {arguments.analysis.upper()}, effect {arguments.effect:g}, alpha {arguments.alpha:g}")
    if design is not None:
        print(
            f"{design['n_readers']} readers x {design['n_cases']} cases: power {design['power']:.4f}   "
            f"(ncp {design['ncp']:.4g}, ddf {design['ddf']:.4g}, F critical {design['f_critical']:.4g})"
        )
        return 0
    print(f"fewest cases for power >= {arguments.target:g} (up to {arguments.max_cases}):")
    print(f"{'readers':>8}{'cases':>8}{'power':>9}{'ddf':>10}")
    for row in table:
        if row["n_cases"] is None:
            print(f"{row['n_readers']:>8}{'>' + str(arguments.max_cases):>8}{'-':>9}{'-':>10}")
        else:
            print(f"{row['n_readers']:>8}{row['n_cases']:>8}{row['power']:>9.3f}{row['ddf']:>10.4g}")
    return 0


def parse_readers(text):
    """``"2-20"``, ``"4,6,8"`` or a mix (``"2-5,10"``) as a sorted list of distinct reader counts."""
    counts = set()
    for part in str(text).split(","):
        part = part.strip()
        if not part:
            continue
        try:
            if "-" in part:
                low, high = (int(bound) for bound in part.split("-", 1))
                if high < low:
                    raise ValueError
                counts.update(range(low, high + 1))
            else:
                counts.add(int(part))
        except ValueError:
            raise PlanningInputError(f"--readers: cannot read {part!r} (use e.g. 2-20 or 4,6,8)") from None
    if not counts or min(counts) < 1:
        raise PlanningInputError(f"--readers: need positive reader counts, got {text!r}")
    return sorted(counts)


def _mrmc_power_pilot(arguments):
    """The pilot of ``mrmc-power``: (description, OR components, pilot case count) from --components or a CSV."""
    if (arguments.ratings is None) == (arguments.components is None):
        raise PlanningInputError("give either a pilot RATINGS.csv or --components JSON_FILE (one of them)")
    if arguments.components is not None:
        if arguments.modality is not None:
            raise PlanningInputError("--modality needs a pilot RATINGS.csv, not --components")
        with open(arguments.components, encoding="utf-8") as handle:
            try:
                mapping = json.load(handle)
            except json.JSONDecodeError as error:
                raise PlanningInputError(f"{arguments.components}: not JSON ({error})") from None
        if not isinstance(mapping, dict):
            raise PlanningInputError(f"{arguments.components}: expected a JSON object")
        if isinstance(mapping.get("variance_components"), dict):  # an `mrmc --json` style report
            outer = {key: value for key, value in mapping.items() if key != "variance_components"}
            mapping = {**mapping["variance_components"], **outer}
        pilot_cases = mapping.get("pilot_cases", mapping.get("n_cases"))
        try:
            pilot_cases = float(pilot_cases)
        except (TypeError, ValueError):
            message = f"{arguments.components}: needs pilot_cases, the pilot's number of cases"
            raise PlanningInputError(message) from None
        try:
            components = mrmc_power.components_from(mapping, arguments.test)
        except ValueError as error:
            raise PlanningInputError(f"{arguments.components}: {error}") from None
        readers = mapping.get("n_readers")
        return {"components_file": arguments.components, "n_readers": readers}, components, pilot_cases
    frame = read_ratings(arguments.ratings)
    result = or_hillis(frame, covariance=arguments.covariance, alpha=arguments.alpha)
    modalities = {modality["modality"]: modality for modality in result["modalities"]}
    pilot = {
        "ratings": arguments.ratings,
        "n_readers": result["n_readers"],
        "n_modalities": len(modalities),
        "covariance": arguments.covariance,
    }
    if arguments.modality is not None:
        if arguments.test != "vs_half":
            raise PlanningInputError("--modality picks one modality's components for --test vs_half only")
        if arguments.modality not in modalities:
            raise PlanningInputError(
                f"{arguments.ratings}: no modality {arguments.modality!r} (found {', '.join(modalities)})"
            )
        # that modality's own OR components: the one-modality analysis of its ratings
        own = frame
        if "modality" in frame.columns:
            own = frame[frame["modality"].astype(str) == arguments.modality].drop(columns="modality")
        source = or_hillis(own, covariance=arguments.covariance, alpha=arguments.alpha)["variance_components"]
        pilot["modality"] = arguments.modality
    else:
        if arguments.test == "difference" and len(modalities) < 2:
            raise PlanningInputError(
                f"{arguments.ratings}: the difference test needs a pilot with two or more modalities "
                f"(found {len(modalities)}); use --test vs_half for one modality"
            )
        source = result["variance_components"]
    return pilot, mrmc_power.components_from(source, arguments.test), float(result["n_cases"])


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
