"""The command line's own conventions on top of the settings schema (``core/settings.py``)."""

from __future__ import annotations

from typing import Any, Mapping

from .errors import ConfigError
from .settings import BETA_VARIANT_DEFAULT, SAME, SCHEMA, VARIANT_PRIORS, RunSettings, problems


def from_cli(values: Mapping[str, Any]) -> RunSettings:
    """``RunSettings`` from parsed command-line options (None: the option was not given).

    The command line's own conventions: --beta only with the β variant (4 when left out there),
    --capacity and --[no-]beta-label only with the β variant, --warmup-epochs alone means a
    linear warm-up, each variant starts with its own prior (``VARIANT_PRIORS``), and --free-bits
    means N(0, I), unless --prior says otherwise."""
    given = {k: v for k, v in values.items() if k in SCHEMA and v is not None}
    variant = given.get("variant", "vanilla")
    if variant != "beta":
        if given.get("beta", 1.0) != 1.0:
            raise ConfigError(f"--beta {given['beta']:g} needs --variant beta (the {variant} variant trains with beta = 1)")
        if "capacity" in given:
            raise ConfigError("--capacity needs --variant beta")
        if "beta_label" in given:
            raise ConfigError("--beta-label and --no-beta-label need --variant beta (the conditional variant is always "
                              "given the label, the vanilla one never)")
    else:
        given.setdefault("beta", BETA_VARIANT_DEFAULT)
    if given.get("free_bits", 0) > 0:  # free bits are per dimension of N(0, I): asking for them picks it
        given.setdefault("prior", "standard")
    if variant in VARIANT_PRIORS:
        given.setdefault("prior", VARIANT_PRIORS[variant])
    if "kl_schedule" not in given:
        given["kl_schedule"] = "linear" if given.get("warmup_epochs", 0) > 0 else "constant"
    for name, spec in SCHEMA.items():
        if name not in given and spec.cli_default is not SAME:
            given[name] = spec.cli_default
    s = RunSettings(**given)
    problem = next(iter(problems(s)), None)
    if problem:
        raise ConfigError(problem.replace("warm-up epochs", "--warmup-epochs"))
    return s
