"""Paired evaluation (cudi_jax.eval.paired): PSNR/SSIM against references, strata."""
import numpy as np
import pytest

from cudi_jax import imagemath
from cudi_jax.eval import common as eval_common
from cudi_jax.eval import metrics
from cudi_jax.eval import paired
from cudi_jax.eval import pairs as pairs_lib
from tests import helpers


def test_paired_identity_and_pairs(photos):
  ins, refs = photos
  pairs = pairs_lib.match_pairs(ins, refs)
  assert [p[0] for p in pairs] == ["p0", "p1", "p2"]
  res = paired.evaluate_paired(pairs[:1], {"same": lambda i, e: i, "input": None}, ["auto", 0.5],
                                 progress=False)
  # the baseline row appears once per image, the model once per exposure
  assert [(r["model"], r["exposure"]) for r in res["images"]] == [
      ("input", "-"), ("same", "auto"), ("same", "0.5")]
  assert res["images"][0]["psnr"] == pytest.approx(res["images"][1]["psnr"])
  assert res["images"][0]["black_lift"] == 0 and res["images"][1]["black_lift"] == 0
  ref = eval_common.read_float_image(pairs[0][2])
  inp = eval_common.read_float_image(pairs[0][1])
  assert res["images"][1]["psnr"] == pytest.approx(metrics.psnr(inp, ref))
  assert res["images"][1]["ssim"] == pytest.approx(metrics.ssim(inp, ref))


def test_paired_reference_baseline(photos):
  """'reference' scores the reference itself: what the references do to blacks."""
  ins, refs = photos
  pairs = pairs_lib.match_pairs(ins, refs)
  res = paired.evaluate_paired(pairs, {"reference": None}, progress=False)
  for row, (_, in_path, ref_path) in zip(res["images"], pairs):
    assert row["ssim"] == pytest.approx(1.0) and row["contrast"] == pytest.approx(1.0)
    assert row["mean_error"] == pytest.approx(0.0, abs=1e-6)
    y_in = imagemath.luma(eval_common.read_float_image(in_path))
    y_ref = imagemath.luma(eval_common.read_float_image(ref_path))
    assert row["black_lift"] == pytest.approx(np.percentile(y_ref, 1) - np.percentile(y_in, 1),
                                              abs=1e-6)
    assert row["black_lift"] > 0.01  # these references are brighter than their inputs
    assert row["blue_shift"] == pytest.approx(1.0)


def test_dynamic_range_and_strata():
  y = np.concatenate([np.full(50, 0.05), np.full(40, 0.1), np.full(10, 0.9)])
  image = np.repeat(y.reshape(10, 10, 1), 3, axis=-1).astype(np.float32)
  assert paired.dynamic_range(image) == pytest.approx(np.percentile(y, 95) / np.percentile(y, 50),
                                                      rel=1e-5)
  assert paired.dynamic_range(np.zeros((4, 4, 3))) == np.inf
  assert [paired.stratum(r) for r in (1.0, 7.99, 8.0, 15.9, 16.0, np.inf)] == [
      "r<8", "r<8", "8<=r<16", "8<=r<16", "r>=16", "r>=16"]


def _strata_pairs(root):
  """Six under-exposed pairs, two per stratum of dynamic range, and two over-exposed."""
  rng = np.random.default_rng(7)
  root.mkdir()
  rows = ["input,reference,kind"]
  for i, (bright, kind) in enumerate([(0.12, "under"), (0.15, "under"), (0.5, "under"),
                                      (0.6, "under"), (0.95, "under"), (1.0, "under"),
                                      (0.9, "over"), (0.95, "over")]):
    base = 0.02 + 0.02 * rng.random((40, 48, 3))
    if kind == "over":
      base = 0.6 + 0.1 * rng.random((40, 48, 3))
    base[:8] = bright  # the brightest 20%: sets p95 against a dark median
    ref = np.clip(base * (0.5 / base.mean()), 0, 1)
    helpers.save_float_image(root / f"i{i}.png", base)
    helpers.save_float_image(root / f"r{i}.png", ref)
    rows.append(f"i{i}.png,r{i}.png,{kind}")
  (root / "pairs.csv").write_text("\n".join(rows) + "\n")
  return pairs_lib.match_pairs(root, root, root / "pairs.csv")


def test_strata_summary_on_generated_pairs(tmp_path):
  pairs = _strata_pairs(tmp_path / "p")
  res = paired.evaluate_paired(pairs, {"same": lambda i, e: i, "gain": None}, ["auto"],
                               progress=False, strata=True)
  images = res["images"]
  for r in images:
    image = eval_common.load_image(pairs[int(r["name"][1:])][1])
    assert r["dynamic_range"] == pytest.approx(paired.dynamic_range(image))
    assert r["stratum"] == paired.stratum(r["dynamic_range"])
  under = {r["name"]: r["stratum"] for r in images if r["kind"] == "under"}
  assert sorted(set(under.values())) == ["8<=r<16", "r<8", "r>=16"]
  strata = res["strata"]
  assert [(s["kind"], s["model"]) for s in strata][0] == ("under", "same")
  assert [s["stratum"] for s in strata if s["kind"] == "under"] == ["r<8", "8<=r<16", "r>=16"]
  assert all(s["model"] == "same" for s in strata)  # gain is the column beside, not a row
  for s in strata:
    rows = [r for r in images if r["kind"] == s["kind"] and r["stratum"] == s["stratum"]]
    model = [r for r in rows if r["model"] == "same"]
    gain = [r for r in rows if r["model"] == "gain"]
    assert s["pairs"] == len(model) == len(gain)
    assert s["psnr"] == pytest.approx(np.mean([r["psnr"] for r in model]))
    assert s["ssim"] == pytest.approx(np.mean([r["ssim"] for r in model]))
    assert s["gain_psnr"] == pytest.approx(np.mean([r["psnr"] for r in gain]))
    assert s["gain_ssim"] == pytest.approx(np.mean([r["ssim"] for r in gain]))
  # The SSIM is the paired evaluation's own (metrics.ssim on the 8-bit output).
  first = images[1]
  ref = eval_common.read_float_image(pairs[0][2])
  assert first["ssim"] == pytest.approx(metrics.ssim(
      eval_common.load_image(pairs[0][1]), ref))
  # Without strata the rows carry no stratum and there is no 'strata' key.
  plain = paired.evaluate_paired(pairs[:1], {"gain": None}, progress=False)
  assert "strata" not in plain and "stratum" not in plain["images"][0]


def test_skipped_pairs_go_to_on_error(tmp_path):
  pairs = _strata_pairs(tmp_path / "p")
  pairs[1][1].write_bytes(b"not an image")
  seen = []
  res = paired.evaluate_paired(pairs[:3], {"gain": None}, progress=False,
                               on_error=lambda name, err: seen.append((name, str(err))))
  assert [r["name"] for r in res["images"]] == ["i0", "i2"]
  assert seen == [("i1", f"{pairs[1][1]}: not an image file (or an unsupported format)")]
  with pytest.raises(eval_common.UnreadableImage, match="i1.png"):
    paired.evaluate_paired(pairs[:3], {"gain": None}, progress=False)
