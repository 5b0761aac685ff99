"""The settings schema: one declaration per setting, from which the CLI and the configs follow."""

import math

import pytest

from vae_studio.cli import build_parser, main
from vae_studio.core.errors import ConfigError
from vae_studio.core.cli_settings import from_cli
from vae_studio.core.settings import SCHEMA, RunSettings, problems


def _train_actions():
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    return {a.dest: a for a in sub.choices["train"]._actions}


def test_every_cli_setting_is_an_option_of_train_with_the_schema_choices():
    actions = _train_actions()
    for name, spec in SCHEMA.items():
        if not spec.cli:
            continue
        assert name in actions, name
        a = actions[name]
        assert a.default is None  # the schema decides defaults, so a missing option is told apart
        if spec.choices:
            assert tuple(a.choices) == spec.choices
        assert spec.help.split(":")[0].replace("%", "") in a.help.replace("%%", "%")


@pytest.mark.parametrize("name", [n for n, s in SCHEMA.items() if s.lo is not None and s.kind in (int, float)])
def test_numeric_ranges_are_enforced_by_the_dataclass_and_the_cli_alike(name, capsys):
    spec = SCHEMA[name]
    below = spec.lo - (1 if spec.kind is int else spec.lo * 0.5 + 1e-3)
    above = spec.hi * 2 + 1
    for bad in (below, above):
        with pytest.raises(ConfigError):
            RunSettings(**{name: spec.kind(bad)})
        flag = "--" + name.replace("_", "-")
        extra = ["--variant", "beta"] if name.startswith("capacity") or name == "beta" else []
        with pytest.raises(SystemExit) as e:
            main(["train", *extra, flag, str(spec.kind(bad)), "--epochs", "1"])
        assert e.value.code == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and spec.label.lower() in err


def test_settings_file_values_out_of_range_are_clamped_with_a_note():
    s, notes = RunSettings.from_dict({"batch_size": 10**9, "lr": -1, "latent_dim": "x", "variant": "gan",
                                      "epochs": 5, "hidden": [64, 32], "beta": math.nan})
    assert s.batch_size == SCHEMA["batch_size"].hi and s.lr == SCHEMA["lr"].lo
    assert s.latent_dim == RunSettings().latent_dim and s.variant == "vanilla" and s.beta == RunSettings().beta
    assert s.epochs == 5 and s.hidden == (64, 32)
    assert len(notes) == 5 and any("batch size" in n for n in notes)
    assert RunSettings.from_dict("garbage")[0] == RunSettings()


def test_beta_one_is_accepted_by_the_beta_variant_everywhere(tmp_path):
    s = RunSettings(variant="beta", beta=1.0)
    assert s.train_config().beta == 1.0 and not problems(s)
    assert from_cli({"variant": "beta", "beta": 1.0}).effective_beta() == 1.0
    assert from_cli({"variant": "beta"}).effective_beta() == 4.0
    out = tmp_path / "b.pt"
    assert main(["train", "--variant", "beta", "--beta", "1", "--epochs", "1", "--hidden", "16", "--out", str(out)]) == 0


def test_rules_between_settings_are_written_once():
    with pytest.raises(ConfigError, match="cycle length"):
        RunSettings(kl_schedule="cyclical").train_config()
    assert from_cli({"warmup_epochs": 2.0}).kl_schedule == "linear"
    assert from_cli({}).latent_dim == SCHEMA["latent_dim"].cli_default
    assert RunSettings(kl_schedule="constant", warmup_epochs=3).train_config().warmup_epochs == 0
    assert RunSettings(variant="vanilla", beta=7).train_config().beta == 1.0  # β belongs to the β variant


def test_checkpoint_configs_round_trip_through_settings():
    s = RunSettings(variant="beta", beta=3.0, capacity=12.0, latent_dim=5, hidden=(64, 32), kl_schedule="linear",
                    warmup_epochs=2.0, epochs=7, seed=3, image_size="28", channels="1")
    back = RunSettings.from_configs(s.model_config(), s.train_config(), s.dataset)
    assert back == s
    # the image size and colour a model was built for come back as chosen, "auto" or not
    colour = RunSettings.from_configs(s.model_config((3, 64, 64)), s.train_config(), "shapes")
    assert (colour.image_size, colour.channels) == ("64", "3") and colour.image_format() == (64, 3)
    assert RunSettings().image_format() == (None, None)


def test_cli_args_give_back_the_same_settings():
    for s in (RunSettings(), RunSettings(variant="beta", beta=2.5, capacity=9.0, kl_schedule="cyclical", warmup_epochs=3),
              RunSettings(variant="conditional", hidden=(64, 32), latent_dim=7, lr=3e-4),
              RunSettings(residual=False, binarize=True, prior="standard", free_bits=0.3),
              RunSettings(variant="beta", prior="mixture", prior_components=40)):
        args = build_parser().parse_args(["train", *s.cli_args()])
        assert from_cli(vars(args)) == s


def test_switches_are_on_off_flags_on_the_command_line():
    from vae_studio.cli import build_parser

    parse = lambda *a: from_cli(vars(build_parser().parse_args(["train", *a])))  # noqa: E731
    assert parse().residual is True and parse().binarize is False  # the schema's defaults
    assert parse("--no-residual").model_config().residual is False
    assert parse("--binarize").train_config().binarize is True
    assert RunSettings.from_configs(parse("--no-residual").model_config(), parse().train_config(), "digits").residual is False
