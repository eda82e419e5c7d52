"""README.md: what it promises users matches the package."""
import os
import re

from cudi_jax import cli

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _readme():
  with open(os.path.join(REPO, "README.md"), encoding="utf-8") as f:
    return f.read()


def test_readme_is_a_user_guide_of_at_most_300_lines():
  assert len(_readme().splitlines()) <= 300


def test_readme_says_unwritable_formats_become_png():
  """README's enhance section says GIF, PPM, ... are saved as PNG."""
  text = _readme()
  section = text[text.index("## Enhance photos"):text.index("## Python API")]
  assert "GIF" in section and "PPM" in section and "saved as PNG" in section
  assert cli._output_name("x.gif", "", None) == "x.png"
  assert cli._output_name("x.ppm", "", None) == "x.png"


def test_readme_gives_the_test_suite_duration():
  """The 'Run the tests' paragraph says how long the suite takes."""
  text = _readme()
  section = text[text.index("Run the tests"):text.index("## Installing")]
  assert re.search(r"\d+-\d+ minutes", section) and re.search(r"\d{3} tests", section)


def test_readme_documents_every_enhance_option():
  text = _readme()
  for action in cli._parser()._actions:
    longest = max(action.option_strings, key=len, default=None)
    if longest and longest not in ("--help", "--demo"):
      assert f"`{longest}" in text or f", {longest}" in text, longest
