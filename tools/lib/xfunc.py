"""What the Python tools of this checkout share: where it is, its environment, the programs they run.

The environment (the checkout's PostgreSQL copy, its cluster's data directory, socket and port,
the server's user, ...) is computed in one place, tools/lib/env.sh, which the bash tools source.
The Python tools read the same values as `tools/cluster/cluster.sh env` prints them (KEY=VALUE a
line), once per process, and never compute them again. A tool in tools/<role>/ imports this
module with:

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
    import xfunc
"""
import functools
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CLUSTER = ROOT / "tools" / "cluster" / "cluster.sh"


DEBIAN_PYTHON = "/usr/bin/python3"


def debian_python_for(module: str) -> bool:
    """Whether `module` (a Debian package's, such as python3-selenium's `selenium`) can be
    imported. Debian's packages are importable only from Debian's own Python: a python3 found
    earlier on PATH (pyenv, a virtualenv) hands the running script over to it (this call then
    does not return). False when no Python here has the module."""
    if importlib.util.find_spec(module) is not None:
        return True
    if os.path.realpath(sys.executable) != os.path.realpath(DEBIAN_PYTHON) \
            and os.access(DEBIAN_PYTHON, os.X_OK):
        os.execv(DEBIAN_PYTHON, [DEBIAN_PYTHON, *sys.argv])
    return False


@functools.cache
def env() -> dict[str, str]:
    """Every value tools/lib/env.sh computes: PGHOST, PGPORT, PG_BINDIR, PG_CONFIG, XFUNC_PGDATA,
    XFUNC_RUNAS, PGRX_HOME, ... (`tools/cluster/cluster.sh env`)."""
    r = subprocess.run(["bash", str(CLUSTER), "env"], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"{CLUSTER.relative_to(ROOT)} env failed:\n{r.stderr}")
    return dict(line.split("=", 1) for line in r.stdout.splitlines() if "=" in line)


def cluster(*args: str, **kwargs) -> subprocess.CompletedProcess:
    """Runs `tools/cluster/cluster.sh ARGS...` (start, stop, status, single, ...), output captured;
    keyword arguments go to subprocess.run (input=...)."""
    return subprocess.run(["bash", str(CLUSTER), *args], cwd=ROOT, capture_output=True, text=True,
                          **kwargs)


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    """subprocess.run in the checkout, text output captured; a missing program is a one-line exit
    that says how to get it."""
    kwargs.setdefault("cwd", ROOT)
    kwargs.setdefault("capture_output", True)
    kwargs.setdefault("text", True)
    try:
        return subprocess.run(cmd, **kwargs)
    except FileNotFoundError:
        sys.exit(f"{cmd[0]} not found: run bash tools/cluster/setup.sh")
