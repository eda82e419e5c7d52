"""What the named settings mean, and their metadata."""
import pytest

from cudi_jax.exposure.presets import DEFAULT_PRESETS, Presets
from cudi_jax.exposure.settings import ExposureError


def test_defaults_and_targets():
  assert (DEFAULT_PRESETS.under, DEFAULT_PRESETS.over) == (0.55, 0.25)
  assert DEFAULT_PRESETS.target("auto") == 0.5 and DEFAULT_PRESETS.target("over") == 0.25


def test_metadata_round_trip_and_missing_entries():
  p = Presets(under=0.6, auto_target=0.45, auto_strength=0.4, auto_gain_cap=None)
  assert Presets.from_metadata({"exposure_presets": p.to_metadata()}) == p
  capped = Presets(auto_gain_cap=2.0)
  assert Presets.from_metadata({"exposure_presets": capped.to_metadata()}) == capped
  assert Presets.from_metadata({}) == DEFAULT_PRESETS
  assert Presets.from_metadata({"exposure_presets": {"over": 0.3}}) == Presets(over=0.3)
  balanced = Presets(auto_compression=0.5, auto_toe=0.0, auto_noise_limit=0.01,
                     auto_bright=(0.2, 0.5))
  assert Presets.from_metadata({"exposure_presets": balanced.to_metadata()}) == balanced
  tempered = Presets(auto_temper=0.5, auto_temper_photos=(0.5, 0.8), auto_temper_keep=(0.9, 1.0))
  assert Presets.from_metadata({"exposure_presets": tempered.to_metadata()}) == tempered
  assert Presets.from_metadata(
      {"exposure_presets": {"auto": {"temper": {"strength": 1.0}}}}) == Presets(auto_temper=1.0)
  for night in (None, 0.25):
    p = Presets(auto_night=night, auto_night_noise=0.002)
    assert Presets.from_metadata({"exposure_presets": p.to_metadata()}) == p


@pytest.mark.parametrize("presets", [
    {"under": 0},                         # a black photo
    {"over": "x"},
    {"under": True},
    {"auto": {"target": 0.0}},
    {"auto": {"target": float("nan")}},
    {"auto": {"gain_cap": 0.5}},          # a cap below the global gain
    {"auto": {"strength": 1.5}},
    {"adaptive": {"strength": -0.1}},
    {"adaptive": "x"},
    "x",
    {"response": {"means": [0.1]}},       # tables in an old layout
    {"auto": {"compression": 2}},
    {"auto": {"toe": -0.1}},
    {"auto": {"noise_limit": 0}},
    {"auto": {"bright": [0.6, 0.3]}},     # decreasing
    {"auto": {"bright": 0.3}},
    {"auto": {"bright": [0.3, "x"]}},
    {"auto": {"temper": 0.5}},
    {"auto": {"night": -1}},
    {"auto": {"night_noise": 2}},
    {"auto": {"temper": {"strength": 1.5}}},
    {"auto": {"temper": {"photos": [0.7, 0.5]}}},
    {"auto": {"temper": {"keep": [0.9]}}},
])
def test_malformed_presets_are_refused(presets):
  with pytest.raises(ExposureError):
    Presets.from_metadata({"exposure_presets": presets})
