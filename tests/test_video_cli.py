"""``cudi enhance`` with video inputs (cudi_jax.video.cli through cudi_jax.cli)."""
import numpy as np
import pytest

av = pytest.importorskip("av")

from cudi_jax import cli  # noqa: E402
from cudi_jax.video import synthetic  # noqa: E402
from cudi_jax.video import cli as video_cli  # noqa: E402


def _clip(path, count=10):
  frames = [synthetic.to_uint8(f) for f in synthetic.moving_frames(48, 64, count)]
  synthetic.write_clip(path, frames, rate=25)


def test_enhance_writes_the_video_with_crf_and_codec(tmp_path, capsys):
  _clip(tmp_path / "a.mp4")
  out = tmp_path / "out"
  assert cli.main(["enhance", str(tmp_path / "a.mp4"), "-o", str(out), "--crf", "23",
                   "--codec", "h264", "-e", "0.6"]) == 0
  captured = capsys.readouterr()
  assert "a.mp4 -> " in captured.out and "1 done, 0 skipped, 0 failed" in captured.err
  with av.open(str(out / "a.mp4")) as c:
    assert c.streams.video[0].codec_context.name == "h264"
    assert sum(1 for _ in c.decode(video=0)) == 10
    assert len(c.streams.audio) == 1
  # Again: skipped, not replaced; a single output file name is honoured.
  assert cli.main(["enhance", str(tmp_path / "a.mp4"), "-o", str(out)]) == 0
  assert "skipped" in capsys.readouterr().err
  assert cli.main(["enhance", str(tmp_path / "a.mp4"), "-o", str(tmp_path / "b.mkv")]) == 0
  assert (tmp_path / "b.mkv").is_file()


def test_errors_are_one_line_naming_the_file(tmp_path, capsys):
  bad = tmp_path / "broken.mov"
  bad.write_bytes(b"\0" * 3000)
  assert cli.main(["enhance", str(bad), "-o", str(tmp_path / "out")]) == 1
  err = capsys.readouterr().err
  assert "error: " + str(bad) in err and "0 done, 0 skipped, 1 failed" in err
  photo = tmp_path / "p.png"
  from PIL import Image
  Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(photo)
  with pytest.raises(SystemExit):
    cli.main(["enhance", str(bad), str(photo), "-o", str(tmp_path / "out")])
  with pytest.raises(SystemExit):
    cli.main(["enhance", str(bad), "-o", str(tmp_path / "out"), "--crf", "99"])


def test_output_paths(tmp_path):
  assert video_cli.output_path("in/a.mp4", str(tmp_path / "b.mkv"), "", True) == str(tmp_path / "b.mkv")
  assert video_cli.output_path("in/a.mp4", "out", "_e", False) == "out/a_e.mp4"


def test_cells_option_reaches_the_enhancer_and_is_refused_for_photos(tmp_path, capsys,
                                                                     monkeypatch):
  from cudi_jax.video import pipeline
  _clip(tmp_path / "a.mp4", count=3)
  seen = []
  original = pipeline.VideoEnhancer

  def spy(*args, **kwargs):
    seen.append(kwargs.get("cell"))
    return original(*args, **kwargs)

  monkeypatch.setattr(pipeline, "VideoEnhancer", spy)
  for option, want in ((["--cells", "8"], 8), ([], None)):
    out = tmp_path / f"out{want}"
    assert cli.main(["enhance", str(tmp_path / "a.mp4"), "-o", str(out)] + option) == 0
    assert seen[-1] == want and (out / "a.mp4").is_file()
  photo = tmp_path / "p.png"
  from PIL import Image
  Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(photo)
  with pytest.raises(SystemExit):
    cli.main(["enhance", str(photo), "-o", str(tmp_path / "o"), "--cells", "8"])
  assert "--cells applies to videos only" in capsys.readouterr().err
