"""`python -m tools.dockerignore [--check] [ROOT]`: the stable command for the .dockerignore files.

Pasted plans and people run this name; the code is ``tools.image.dockerignore``.  A root
module imports no package, so this one runs it by name, as ``tools.entry`` does.
"""

import runpy

if __name__ == "__main__":
    runpy.run_module("tools.image.dockerignore", run_name="__main__", alter_sys=True)
