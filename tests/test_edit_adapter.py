"""The editor's calls into the runtime (cudi_jax/edit/adapter.py)."""
import numpy as np
import pytest

from cudi_jax.exposure import values as exposure_values

from cudi_jax.edit import adapter


@pytest.fixture(scope="module")
def model():
  return adapter.load_model()


def dark_photo(h=48, w=64, seed=0):
  rng = np.random.default_rng(seed)
  ramp = np.linspace(0.05, 0.45, w, dtype=np.float32)[None, :, None]
  noise = rng.uniform(0.0, 0.1, (h, w, 3)).astype(np.float32)
  return (np.clip(ramp + noise, 0, 1) * 255).astype(np.uint8)


def test_constant_settings_are_their_own_request(model):
  image = dark_photo()
  assert np.all(adapter.setting_map(model, image, 0.6) == np.float32(0.6))
  assert np.all(adapter.setting_map(model, image, "under") == np.float32(model.presets.under))
  with pytest.raises(ValueError):
    adapter.setting_map(model, image, "brightest")


@pytest.mark.parametrize("setting", ["auto", "adaptive"])
def test_map_settings_give_what_the_setting_gives(model, setting):
  """The requested map of 'auto' / 'adaptive' is fed (after the export's calibration)
  what the setting itself feeds, so the preview starts where `cudi enhance` is."""
  image = dark_photo()
  requested = adapter.setting_map(model, image, setting)
  assert requested.shape == image.shape[:2] and requested.dtype == np.float32
  x = image.astype(np.float32) / 255
  fed = exposure_values.full_map(model.resolve_exposure(image, setting), x)
  feed = model.rules.calibration.feed
  refed = feed(requested, adapter.mean_brightness(image))
  reachable = fed >= feed(np.float32(0.0), adapter.mean_brightness(image))
  assert np.abs(refed - fed)[reachable].max() < 2e-3
  out = adapter.enhance(model, image, requested)
  direct = model.enhance(image, setting)
  assert np.abs(out.astype(int) - direct).mean() < 1.0


def test_fit_and_read_map_errors(tmp_path):
  assert adapter.fit_map(np.full((2, 3), 65535, np.uint16), 4, 6).shape == (4, 6)
  with pytest.raises(adapter.MapError):
    adapter.fit_map(np.full((2, 2), np.nan, np.float32), 2, 2)
  (tmp_path / "bad.png").write_bytes(b"not a png")
  with pytest.raises(adapter.MapError):
    adapter.read_map(tmp_path / "bad.png")
