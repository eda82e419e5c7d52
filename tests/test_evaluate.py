"""`cudi evaluate` (cudi_jax.eval.evaluate) and its model adapters (cudi_jax.eval.common)."""
import csv
import json

import numpy as np
import pytest
from PIL import Image

from cudi_jax import imagemath
from cudi_jax.exposure import presets as presets_lib
from cudi_jax.exposure import resolve as resolve_lib
from cudi_jax.exposure import values as exposure_values
from cudi_jax import weights
from cudi_jax.eval import common as eval_common
from cudi_jax.eval.common import EvaluationError
from cudi_jax.eval import evaluate
from cudi_jax.eval import metrics
from cudi_jax.eval import tangent_fit
from cudi_jax.runtime import api as runtime
from tests import helpers


def _grey_model(image, fed):
  """A fake model whose output is exactly the exposure map, in grey."""
  return np.repeat(exposure_values.full_map(fed, image)[..., None], 3, axis=-1)


def _save(path, array):
  Image.fromarray((np.clip(array, 0, 1) * 255).round().astype(np.uint8)).save(path)


@pytest.fixture
def photos(tmp_path):
  rng = np.random.default_rng(0)
  ins, refs = tmp_path / "in", tmp_path / "ref"
  ins.mkdir()
  refs.mkdir()
  yy, xx = np.mgrid[0:36, 0:52] / 52.0
  for i in range(3):
    img = np.clip(np.stack([xx, yy, 0.5 * xx], -1) * 0.4 + 0.05 * rng.random((36, 52, 3)), 0, 1)
    _save(ins / f"p{i}.png", img)
    _save(refs / f"p{i}.jpg" if i else refs / f"p{i}.png", np.clip(img * 1.8, 0, 1))
  _save(ins / "unmatched.png", np.zeros((20, 20, 3)))
  return ins, refs


@pytest.fixture
def student_npz(tmp_path):
  path = tmp_path / "student.npz"
  weights.export_student(helpers.random_student_flat(seed=3, std=0.05), {}, path)
  return path


@pytest.fixture(scope="module")
def teacher_npz(tmp_path_factory):
  pytest.importorskip("flax")
  _, variables = helpers.random_teacher_variables(seed=1)
  path = tmp_path_factory.mktemp("teacher") / "teacher.npz"
  weights.export_teacher(variables["params"], {}, path)
  return path


def test_exposure_control_error_is_zero_for_grey_fake_model():
  image = np.random.default_rng(0).random((40, 56, 3)).astype(np.float32)
  res = evaluate.evaluate_exposure([("x", image)], {"fake": _grey_model}, progress=False,
                                   named=())
  const = [r for r in res["images"] if r["map"] == "constant"]
  assert [r["target"] for r in const] == pytest.approx([0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8])
  for r in res["images"]:
    # The network sees a map per 4x4 cell: an ellipse's edge cells are blends.
    assert r["abs_error"] == pytest.approx(0.0, abs=1e-6 if r["map"] != "ellipse" else 0.05)
    if r["region"] != "contrast" and r["map"] != "ellipse":
      assert np.isnan(r["cell_error"]) or r["cell_error"] == pytest.approx(0.0, abs=1e-6)
  overall = res["overall"][0]
  assert overall["constant_cell_error"] == pytest.approx(0.0, abs=1e-6)
  assert overall["local_contrast_ratio"] == pytest.approx(1.0, abs=0.1)
  regions = {(r["map"], r["region"]) for r in res["images"]}
  assert {("halves", "left"), ("halves", "right"), ("ellipse", "inside"), ("ellipse", "outside"),
          ("halves", "contrast")} <= regions


def test_exposure_control_error_of_identity_model():
  image = np.full((32, 32, 3), 0.25, np.float32)
  res = evaluate.evaluate_exposure([("x", image)], {"id": lambda i, e: i}, targets=(0.25, 0.75),
                                   local_maps=(), progress=False, named=())
  errs = [r["cell_error"] for r in res["images"]]
  assert errs == pytest.approx([0.0, 0.5])
  assert [r["black_lift"] for r in res["images"]] == [0.0, 0.0]
  # A grey output lifts black: the darkest values of an image go from 0 to E.
  image = np.zeros((32, 32, 3), np.float32)
  image[:16] = 0.5
  res = evaluate.evaluate_exposure([("x", image)], {"grey": _grey_model}, targets=(0.4,),
                                   local_maps=(), progress=False, named=())
  assert res["images"][0]["black_lift"] == pytest.approx(0.4)
  assert res["overall"][0]["constant_black_lift"] == pytest.approx(0.4)


def test_exposure_named_settings_rows():
  """auto / under / over: mean brightness against what the name promises, black lift."""
  rng = np.random.default_rng(4)
  image = (rng.random((40, 56, 3)) * 0.3).astype(np.float32)
  rules = resolve_lib.ExposureRules(presets_lib.Presets(under=0.6, over=0.3, auto_target=0.45))
  res = evaluate.evaluate_exposure([("x", image)], {"grey": _grey_model}, targets=(),
                                   local_maps=(), progress=False, rules=rules)
  rows = {r["map"]: r for r in res["images"]}
  assert set(rows) == {"auto", "under", "over"}
  assert rows["under"]["target"] == pytest.approx(0.6) and rows["over"]["target"] == pytest.approx(0.3)
  assert rows["under"]["mean"] == pytest.approx(0.6) and rows["under"]["abs_error"] < 1e-6
  assert rows["over"]["black_lift"] == pytest.approx(0.3 - np.percentile(image.mean(-1), 1),
                                                     abs=1e-6)
  auto_map = exposure_values.full_map(eval_common.resolve_exposure("auto", image, rules), image)
  assert rows["auto"]["target"] == pytest.approx(0.45)
  assert rows["auto"]["mean"] == pytest.approx(float(auto_map.mean()), abs=1e-6)
  assert rows["auto"]["abs_error"] == pytest.approx(abs(float(auto_map.mean()) - 0.45), abs=1e-6)
  assert all(np.isnan(r["cell_error"]) for r in rows.values())
  # A grey output of a colour photo: its blue/green ratio over the input's.
  ratio = (image[..., 2].mean() + 1e-3) / (image[..., 1].mean() + 1e-3)
  assert rows["under"]["blue_shift"] == pytest.approx(1.0 / ratio, rel=1e-6)
  with pytest.raises(EvaluationError):
    evaluate.evaluate_exposure([("x", image)], {"grey": _grey_model}, targets=(), local_maps=(),
                               progress=False, named=("adaptive",))


def test_local_maps():
  emap, regions = eval_common.local_map("halves", 10, 20)
  assert emap[:, :10].max() == pytest.approx(0.3) and emap[:, 10:].min() == pytest.approx(0.7)
  assert regions["left"].sum() + regions["right"].sum() == 200
  emap, regions = eval_common.local_map("ellipse", 40, 60)
  assert emap[20, 30] == pytest.approx(0.7) and emap[0, 0] == pytest.approx(0.3)
  with pytest.raises(ValueError):
    eval_common.local_map("star", 10, 10)


def test_paired_identity_and_pairs(photos):
  ins, refs = photos
  pairs = evaluate.match_pairs(ins, refs)
  assert [p[0] for p in pairs] == ["p0", "p1", "p2"]
  res = evaluate.evaluate_paired(pairs[:1], {"same": lambda i, e: i, "input": None}, ["auto", 0.5],
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
  pairs = evaluate.match_pairs(ins, refs)
  res = evaluate.evaluate_paired(pairs, {"reference": None}, progress=False)
  for row, (_, in_path, ref_path) in zip(res["images"], pairs):
    assert row["ssim"] == pytest.approx(1.0) and row["contrast"] == pytest.approx(1.0)
    assert row["mean_error"] == pytest.approx(0.0, abs=1e-6)
    y_in = imagemath.luma(eval_common.read_float_image(in_path))
    y_ref = imagemath.luma(eval_common.read_float_image(ref_path))
    assert row["black_lift"] == pytest.approx(np.percentile(y_ref, 1) - np.percentile(y_in, 1),
                                              abs=1e-6)
    assert row["black_lift"] > 0.01  # these references are brighter than their inputs
    assert row["blue_shift"] == pytest.approx(1.0)


def test_paired_cli_json_csv(photos, student_npz, tmp_path, capsys):
  ins, refs = photos
  out_json, out_csv = tmp_path / "r.json", tmp_path / "r.csv"
  rc = evaluate.main(["paired", str(ins), str(refs), "--student", str(student_npz),
                      "--models", "student,input", "--exposure", "0.5", "--exposure", "auto",
                      "--json", str(out_json), "--csv", str(out_csv), "-q"])
  assert rc == 0
  data = json.loads(out_json.read_text())
  assert data["settings"]["exposures"] == ["0.5", "auto"]
  assert len(data["images"]) == 3 * 3  # 3 pairs x (2 student exposures + 1 baseline)
  summary = {(s["model"], s["exposure"]): s for s in data["summary"]}
  assert set(summary) == {("student", "0.5"), ("student", "auto"), ("input", "-")}
  assert all(0 < s["ssim"] <= 1 and s["count"] == 3 for s in summary.values())
  rows = list(csv.DictReader(out_csv.open()))
  assert len(rows) == 9 and {"name", "model", "exposure", "psnr", "ssim"} <= set(rows[0])
  # --color: the student's colour handling, recorded; natural (cudi enhance's) by default.
  assert data["settings"]["color"] == "natural"
  net_json = tmp_path / "net.json"
  assert evaluate.main(["paired", str(ins), str(refs), "--student", str(student_npz),
                        "--models", "student", "--exposure", "0.5", "--color", "network",
                        "--json", str(net_json), "-q"]) == 0
  net = json.loads(net_json.read_text())
  assert net["settings"]["color"] == "network"
  model = runtime.load_student(student_npz)
  ins_sorted = sorted(p for p in ins.iterdir())
  image = eval_common.load_image(ins_sorted[0])
  ref = eval_common.resize_image(eval_common.read_float_image(sorted(refs.iterdir())[0]),
                                 size=image.shape[:2])
  out = eval_common.to_uint8(model.enhance(image, exposure_values.Constant(0.5), color="network"))
  assert net["images"][0]["psnr"] == pytest.approx(
      metrics.psnr(out.astype(np.float32) / 255, ref), abs=1e-6)


def test_paired_pairs_csv_and_max_size(photos, student_npz, tmp_path):
  ins, refs = photos
  pairs_csv = tmp_path / "pairs.csv"
  pairs_csv.write_text("input,reference\np1.png,p1.jpg\np2.png,p2.jpg\n")
  out_json = tmp_path / "r.json"
  rc = evaluate.main(["paired", str(ins), str(refs), "--pairs", str(pairs_csv), "--student",
                      str(student_npz), "--max-size", "26", "--json", str(out_json), "-q"])
  assert rc == 0
  rows = json.loads(out_json.read_text())["images"]
  assert [(r["name"], r["model"]) for r in rows] == [
      ("p1", "gain"), ("p1", "student"), ("p2", "gain"), ("p2", "student")]
  assert (rows[0]["height"], rows[0]["width"]) == (18, 26)


def test_paired_csv_with_kind_and_split_and_the_gain_baseline(photos, student_npz, tmp_path):
  ins, refs = photos
  pairs_csv = tmp_path / "pairs.csv"
  pairs_csv.write_text("input,reference,kind,scene,split\n"
                       "p0.png,p0.png,under,0-1,train\n"
                       "p1.png,p1.jpg,under,1-2,val\n"
                       "p2.png,p2.jpg,over,2-3,val\n")
  pairs = evaluate.match_pairs(ins, refs, pairs_csv, split="val")
  assert [(p[0], p.kind, p.split) for p in pairs] == [("p1", "under", "val"), ("p2", "over", "val")]
  with pytest.raises(EvaluationError, match="split"):
    evaluate.match_pairs(ins, refs, split="val")
  out_json = tmp_path / "r.json"
  rc = evaluate.main(["paired", str(ins), str(refs), "--pairs", str(pairs_csv), "--split", "val",
                      "--student", str(student_npz), "--models", "student,gain,input",
                      "--json", str(out_json), "-q"])
  assert rc == 0
  data = json.loads(out_json.read_text())
  assert data["settings"]["split"] == "val"
  summary = [(s["kind"], s["model"], s["count"]) for s in data["summary"]]
  assert summary == [("under", "student", 1), ("under", "gain", 1), ("under", "input", 1),
                     ("over", "student", 1), ("over", "gain", 1), ("over", "input", 1)]
  for s in data["summary"]:
    assert {"psnr", "ssim", "black_lift", "contrast", "mean_error"} <= set(s)


def test_global_gain_reaches_its_target_after_clipping():
  rng = np.random.default_rng(0)
  image = (rng.random((20, 30, 3)) ** 3 * 0.3).astype(np.float32)
  image[0, 0] = 0.29                          # saturates under the gain: clipping matters
  out = eval_common.global_gain(image, 0.5)
  luma = out @ np.array(eval_common.LUMA_709)
  assert luma.mean() == pytest.approx(0.5, abs=1e-4)
  assert out.max() == 1.0 and out.min() >= 0.0
  gains = out[image > 0.001] / image[image > 0.001]
  assert np.ptp(gains[out[image > 0.001] < 1.0]) < 1e-3   # one gain for the whole photo
  assert np.array_equal(eval_common.global_gain(np.zeros((4, 4, 3), np.float32)), np.zeros((4, 4, 3)))


def test_exposure_cli(photos, student_npz, tmp_path, capsys):
  ins, _ = photos
  out_json = tmp_path / "e.json"
  rc = evaluate.main(["exposure", str(ins / "p0.png"), str(ins / "p1.png"), "--student",
                      str(student_npz), "--targets", "0.3,0.7", "--local", "halves",
                      "--json", str(out_json), "--floor"])
  assert rc == 0
  assert "constant_cell_error" in capsys.readouterr().out
  data = json.loads(out_json.read_text())
  # per photo: 3 named settings, 2 targets, 3 halves rows; + the floor's two targets
  assert len(data["images"]) == 2 * (3 + 2 + 3) + 2 * 2
  assert [r["map"] for r in data["images"] if r["model"] == "student"][:3] == [
      "auto", "under", "over"]
  assert data["settings"]["named"] == ["auto", "under", "over"]
  with pytest.raises(SystemExit, match="--named takes"):
    evaluate.main(["exposure", str(ins / "p0.png"), "--student", str(student_npz),
                   "--named", "sideways", "-q"])
  assert [o["model"] for o in data["overall"]] == ["student", "floor"]
  assert 0 <= data["overall"][0]["constant_cell_error"] <= 1
  floor = [r for r in data["images"] if r["model"] == "floor"]
  assert [r["target"] for r in floor] == [0.3, 0.7, 0.3, 0.7]
  # these synthetic photos have no pure black or white: every target is reachable
  assert all(r["cell_error"] == 0.0 for r in floor)
  assert data["settings"]["floor"] is True


def test_cli_errors(tmp_path, student_npz, capsys):
  assert evaluate.main(["exposure", str(tmp_path / "missing"), "--student", str(student_npz), "-q"]) == 2
  assert evaluate.main(["paired", str(tmp_path), str(tmp_path), "--exposure", "1.5",
                        "--student", str(student_npz), "-q"]) == 2
  with pytest.raises(SystemExit):
    evaluate.main(["fidelity", str(tmp_path), "-q"])  # --teacher is required


def test_fidelity_of_identical_models_is_perfect():
  image = np.random.default_rng(0).random((24, 30, 3)).astype(np.float32)
  fn = eval_common.student_function(
      runtime.StudentRuntime(helpers.random_student_flat(std=0.05)))
  res = evaluate.evaluate_fidelity([("x", image)], fn, fn, ["auto", 0.3], progress=False)
  assert len(res["images"]) == 2
  for r in res["images"]:
    assert r["pearson"] == pytest.approx(1.0) and r["mae"] == 0.0 and r["ssim"] == pytest.approx(1.0)
  assert res["summary"][-1]["exposure"] == "all"


@pytest.mark.parametrize("h, w", [(16, 20), (18, 23), (5, 3)])
def test_upsample_adjoint_is_the_transpose(h, w):
  from cudi_jax import student_math
  rng = np.random.default_rng(1)
  hq, wq = -(-h // 4), -(-w // 4)
  x = rng.standard_normal((hq, wq, 2))
  g = rng.standard_normal((h, w, 2))
  lhs = np.sum(student_math.upsample4(x, np, (h, w)) * g)
  np.testing.assert_allclose(np.sum(x * tangent_fit._upsample4_adjoint(g, (hq, wq))), lhs, rtol=1e-10)
  # squared: the column sums of the squared upsampling matrix, built column by column
  expected = np.zeros((hq, wq))
  for i in range(hq):
    for j in range(wq):
      e = np.zeros((hq, wq, 1))
      e[i, j] = 1.0
      expected[i, j] = np.sum(student_math.upsample4(e, np, (h, w)) ** 2)
  got = tangent_fit._upsample4_squared_adjoint(np.ones((h, w, 1)), (hq, wq))[..., 0]
  np.testing.assert_allclose(got, expected, rtol=1e-10)


def test_tangent_line_fit_recovers_a_tangent_line_output():
  from cudi_jax import student_math
  rng = np.random.default_rng(2)
  h, w = 37, 50
  image = rng.uniform(0.05, 0.45, (h, w, 3)).astype(np.float32)
  cells = (-(-h // 4), -(-w // 4), 3)
  k = student_math.upsample4(rng.uniform(0.8, 1.6, cells), np, (h, w))
  b = student_math.upsample4(rng.uniform(0.0, 0.2, cells), np, (h, w))
  target = (k * image + b).astype(np.float32)
  assert 0 <= target.min() and target.max() <= 1
  assert metrics.psnr(tangent_fit.tangent_line_fit(image, target, iterations=200, tol=1e-7),
                      target) > 60
  # a target no tangent line at 1/4 resolution can follow: a per-pixel curve on noise
  bent = np.sqrt(image).astype(np.float32)
  fit = tangent_fit.tangent_line_fit(image, bent)
  assert 25 < metrics.psnr(fit, bent) < 60
  with pytest.raises(ValueError):
    tangent_fit.tangent_line_fit(image, bent[:-1])


def test_fidelity_tangent_fit_columns(tmp_path):
  rng = np.random.default_rng(3)
  image = rng.uniform(0.2, 0.6, (24, 30, 3)).astype(np.float32)
  student = eval_common.student_function(
      runtime.StudentRuntime(helpers.random_student_flat(std=0.05)))
  teacher = lambda img, emap: np.sqrt(img)  # pylint: disable=unnecessary-lambda-assignment
  res = evaluate.evaluate_fidelity([("x", image)], student, teacher, [0.5], progress=False,
                                   tangent_fit=True)
  row = res["images"][0]
  assert row["fit_psnr"] > row["psnr"] and 0 < row["fit_ssim"] <= 1
  assert res["summary"][0]["fit_psnr"] == pytest.approx(row["fit_psnr"])
  plain = evaluate.evaluate_fidelity([("x", image)], student, teacher, [0.5], progress=False)
  assert "fit_psnr" not in plain["images"][0] and "fit_psnr" not in plain["summary"][0]


def test_tile_windows_partition():
  pytest.importorskip("jax")
  from cudi_jax.eval import teacher_runner
  for n, tile, margin in [(10, 4, 2), (100, 32, 8), (33, 512, 64), (70, 24, 16)]:
    wins = teacher_runner.tile_windows(n, tile, margin)
    assert wins[0][2] == 0 and wins[-1][3] == n
    assert len({ws_we[1] - ws_we[0] for ws_we in wins}) == 1  # one window size: one compilation
    for (ws, we, cs, ce), nxt in zip(wins, wins[1:] + [None]):
      assert 0 <= ws <= cs < ce <= we <= n
      if nxt:
        assert nxt[2] == ce


def test_teacher_npz_runner_and_fidelity_cli(teacher_npz, photos, student_npz, tmp_path):
  from cudi_jax.eval import teacher_runner
  tiled = teacher_runner.load_teacher_runner(teacher_npz, tile=16, margin=12)
  module = tiled.module
  assert (module.width, tuple(module.multipliers), module.convs_per_block) == (4, (1, 2, 2, 2, 2), 1)
  whole = teacher_runner.TeacherRunner(tiled.module, tiled.variables, tile=None)
  image = eval_common.load_image(photos[0] / "p0.png")
  emap = exposure_values.PixelMap(np.full(image.shape[:2], 0.6, np.float32))
  a, b = tiled(image, emap), whole(image, emap)
  assert a.shape == image.shape and a.dtype == np.float32
  np.testing.assert_allclose(a, b, atol=1e-3)
  out_json = tmp_path / "f.json"
  rc = evaluate.main(["fidelity", str(photos[0]), "--limit", "2", "--teacher", str(teacher_npz),
                      "--student", str(student_npz), "--tile", "0", "--json", str(out_json), "-q",
                      "--tangent-fit"])
  assert rc == 0
  data = json.loads(out_json.read_text())
  assert len(data["images"]) == 2 and data["settings"]["tangent_fit"] is True
  s = data["summary"][0]
  assert s["exposure"] == "auto" and -1 <= s["pearson"] <= 1 and s["psnr"] > 0
  assert s["fit_psnr"] > 0 and 0 < s["fit_ssim"] <= 1


def test_parse_exposure(tmp_path):
  assert eval_common.parse_exposure("0.4") == pytest.approx(0.4)
  assert eval_common.parse_exposure("Under") == "under"
  with pytest.raises(ValueError):
    eval_common.parse_exposure("bright")
  m = tmp_path / "map.png"
  Image.fromarray(np.full((4, 4), 128, np.uint8)).save(m)
  assert eval_common.parse_exposure(str(m)) == m
