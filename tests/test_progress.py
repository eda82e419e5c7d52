"""Progress bars and one-line names (cudi_jax.progress): one rule for every command."""
import argparse
import io

from cudi_jax import progress


class _Terminal(io.StringIO):
  def isatty(self):
    return True


def test_bars_only_on_a_terminal_and_never_when_quiet():
  assert progress.enabled(stream=_Terminal())
  assert not progress.enabled(stream=io.StringIO())
  assert not progress.enabled(quiet=True, stream=_Terminal())
  assert not progress.enabled(no_progress=True, stream=_Terminal())
  assert progress.bar(3, "x", enabled=False) is None


def test_names_with_control_characters_stay_on_one_line():
  assert progress.show_name("photo.jpg") == "photo.jpg"
  shown = progress.show_name("bad\nname.jpg")
  assert "\n" not in shown and "name.jpg" in shown


def test_the_shared_options():
  parser = progress.add_arguments(argparse.ArgumentParser())
  args = parser.parse_args(["-q", "--no-progress"])
  assert args.quiet and args.no_progress


def test_write_goes_to_the_given_stream():
  out = io.StringIO()
  progress.write("hello", None, file=out)
  assert out.getvalue() == "hello\n"
