"""Files shipped inside the package (see README.md in this folder): the trained
student and teacher exports and the ``cudi enhance --demo`` sample photo."""
import os

FOLDER = os.path.dirname(os.path.abspath(__file__))
STUDENT = "student.npz"
TEACHER = "teacher.npz"
DEMO_PHOTO = "coffee_dark.jpg"


def path(name):
  """Absolute path of a shipped file (it may be absent from a stripped installation)."""
  return os.path.join(FOLDER, name)
