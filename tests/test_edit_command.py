"""``cudi edit`` on the command line (cudi_jax/edit/command.py)."""
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import numpy as np
import pytest
from PIL import Image

from cudi_jax import cli
from cudi_jax.edit import command

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def write_photo(folder, name="photo.png"):
  path = os.path.join(folder, name)
  rng = np.random.default_rng(0)
  Image.fromarray(rng.integers(0, 90, (32, 48, 3), dtype=np.uint8)).save(path)
  return path


def run_edit(*args):
  return cli.main(["edit", *map(str, args)])


def test_bad_command_lines(tmp_path, capsys):
  photo = write_photo(str(tmp_path))
  assert run_edit(tmp_path / "missing.png", "--no-browser") == 1
  assert "no such file" in capsys.readouterr().err
  assert run_edit(photo, "-o", photo, "--no-browser") == 2
  assert "would overwrite the photo" in capsys.readouterr().err
  assert run_edit(photo, "--map-output", photo, "--no-browser") == 2
  os.makedirs(tmp_path / "folder.png")
  assert run_edit(photo, "-o", tmp_path / "folder.png", "--no-browser") == 2
  assert "is a folder" in capsys.readouterr().err
  (tmp_path / "bad_map.png").write_bytes(b"junk")
  assert run_edit(photo, "--exposure-map", tmp_path / "bad_map.png", "--no-browser") == 1
  assert "--exposure-map" in capsys.readouterr().err
  for args in (["-o", "out.xyz"], ["-o", str(tmp_path)], ["--map-output", "m.jpg"], ["--port", "70000"]):
    with pytest.raises(SystemExit) as info:
      run_edit(photo, *args)
    assert info.value.code == 2
  (tmp_path / "bad.png").write_bytes(b"junk")
  assert run_edit(tmp_path / "bad.png", "--no-browser") == 1
  assert "bad.png" in capsys.readouterr().err


def test_serves_on_loopback_and_stops_on_ctrl_c(tmp_path):
  """A real server process: prints its URL, answers, and Ctrl+C (SIGINT) ends it
  cleanly with status 0."""
  pytest.importorskip("uvicorn")
  photo = write_photo(str(tmp_path))
  env = dict(os.environ, PYTHONPATH=REPO_ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
  proc = subprocess.Popen([sys.executable, "-m", "cudi_jax.cli", "edit", photo, "--no-browser",
                           "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, env=env, cwd=str(tmp_path))
  try:
    url = proc.stdout.readline().strip()
    assert url.startswith("http://127.0.0.1:"), proc.stderr.read()
    with urllib.request.urlopen(url + "api/info", timeout=30) as response:
      info = json.loads(response.read())
    assert info["name"] == "photo.png" and info["output"] == "photo_edited.png"
    time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
  finally:
    if proc.poll() is None:
      proc.kill()
      proc.wait()
  assert proc.returncode == 0, err
  assert "stopped" in err and "Traceback" not in err
  assert sorted(os.listdir(tmp_path)) == ["photo.png"]  # nothing written without Save


def test_enhance_does_not_import_the_editor(tmp_path):
  """The base install (cudi enhance) never imports Starlette or uvicorn."""
  photo = write_photo(str(tmp_path))
  code = ("import sys; from cudi_jax import cli; "
          f"rc = cli.main(['enhance', {photo!r}, '-o', {str(tmp_path / 'o')!r}, '--quiet', "
          "'--no-progress']); "
          "bad = [m for m in ('starlette', 'uvicorn', 'cudi_jax.edit') if m in sys.modules]; "
          "print(rc, bad)")
  env = dict(os.environ, PYTHONPATH=REPO_ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
  out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                       check=True).stdout
  assert out.strip() == "0 []"


def test_the_parser_listens_on_loopback_unless_told():
  args = command.parser().parse_args(["photo.jpg"])
  assert args.host is None and args.port == 0 and not args.no_browser
  assert command.DEFAULT_HOST == "127.0.0.1"
