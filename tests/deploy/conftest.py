"""Static views of the docker stack for tests/deploy: docker-compose.yml as compose would interpolate it with a
.env copied from .env.example, the Dockerfile's instructions, and what the image holds where. No Docker needed.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pytest
import yaml

from tests.conftest import REPO

# ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error} and bare $VAR; `$$` is a literal dollar.
INTERPOLATION = re.compile(r"\$(?:\$|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:?[-?])?(?P<arg>[^}]*)\}"
                           r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))")
AIRFLOW_SERVICES = ("airflow-init", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
                    "airflow-triggerer")
DAG_SERVICES = ("airflow-scheduler", "airflow-dag-processor", "airflow-triggerer")  # parse or run the DAGs


def env_file(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines()
             if line.strip() and not line.lstrip().startswith("#"))
    return {k.strip(): v.strip() for k, v in pairs}


def variables(text: str) -> list[tuple[str, str | None]]:
    """Every variable compose interpolates in `text` (comment lines left out), with its operator."""
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    return [(m["braced"] or m["bare"], m["op"]) for m in INTERPOLATION.finditer(body) if m["braced"] or m["bare"]]


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's interpolation of one value, given the variables of .env."""
    def sub(m: re.Match[str]) -> str:
        name = m["braced"] or m["bare"]
        if name is None:
            return "$"
        set_, nonempty = name in env, bool(env.get(name))
        if m["op"] in (":-", "-") and not (nonempty if m["op"] == ":-" else set_):
            return m["arg"]
        if m["op"] in (":?", "?") and not (nonempty if m["op"] == ":?" else set_):
            raise ValueError(f"compose would refuse to start: {name}: {m['arg']}")
        return env.get(name, "")
    return INTERPOLATION.sub(sub, value)


@dataclass(frozen=True)
class Mount:
    source: str  # as written (a named volume, or a host path with its ${...})
    target: PurePosixPath
    read_only: bool


def mounts(svc: dict) -> list[Mount]:
    out = []
    for v in svc.get("volumes", []):
        m = re.fullmatch(r"(?P<source>.+?):(?P<target>/[^:]*)(?::(?P<mode>ro|rw))?", v)
        assert m, f"cannot read the volume {v!r}"
        out.append(Mount(m["source"], PurePosixPath(m["target"]), m["mode"] == "ro"))
    return out


def mount_of(svc: dict, path: str | PurePosixPath) -> Mount | None:
    """The mount holding `path` in the service's container (the deepest one), if any."""
    p = PurePosixPath(path)
    held = [m for m in mounts(svc) if p == m.target or m.target in p.parents]
    return max(held, key=lambda m: len(m.target.parts), default=None)


@dataclass(frozen=True)
class Dockerfile:
    instructions: list[tuple[str, str]]  # (INSTRUCTION, arguments), continuation lines joined

    @classmethod
    def read(cls, path: Path) -> Dockerfile:
        text = re.sub(r"\\\n", " ", "\n".join(line for line in path.read_text().splitlines()
                                             if not line.lstrip().startswith("#")))
        out = []
        for line in text.splitlines():
            if line.strip():
                instr, _, args = line.strip().partition(" ")
                out.append((instr.upper(), args.strip()))
        return cls(out)

    def args(self, instruction: str) -> list[str]:
        return [a for i, a in self.instructions if i == instruction]

    @property
    def env(self) -> dict[str, str]:
        pairs = (tok.split("=", 1) for a in self.args("ENV") for tok in shlex.split(a))
        return dict(pairs)

    @property
    def workdir(self) -> PurePosixPath:
        (last, *_) = reversed(self.args("WORKDIR"))
        return PurePosixPath(last)

    def copies(self) -> dict[PurePosixPath, Path]:
        """Image path -> repo path, for every `COPY <src> <dest>` of a single source (relative to WORKDIR)."""
        out = {}
        for a in self.args("COPY"):
            words = [w for w in shlex.split(a) if not w.startswith("--")]
            *sources, dest = words
            base = self.workdir / dest
            for src in sources:
                out[base if len(sources) == 1 else base / src] = REPO / src
        return out

    def image_to_repo(self, path: str | PurePosixPath) -> Path | None:
        """The repo file or folder that the image holds at `path`, if it is copied in."""
        p = PurePosixPath(path)
        for dest, src in self.copies().items():
            if p == dest or dest in p.parents:
                return src / p.relative_to(dest)
        return None


@pytest.fixture(scope="session")
def env_example() -> dict[str, str]:
    return env_file(REPO / ".env.example")


@pytest.fixture(scope="session")
def compose_text() -> str:
    return (REPO / "docker-compose.yml").read_text()


@pytest.fixture(scope="session")
def compose(compose_text: str) -> dict:
    return yaml.safe_load(compose_text)


@pytest.fixture(scope="session")
def container_env(compose: dict, env_example: dict[str, str]):
    """service -> its environment inside the container, with .env copied from .env.example."""
    def env(service: str) -> dict[str, str]:
        raw = compose["services"][service].get("environment", {})
        return {k: interpolate(str(v), env_example) for k, v in raw.items()}
    return env


@pytest.fixture(scope="session")
def dockerfile() -> Dockerfile:
    return Dockerfile.read(REPO / "Dockerfile")
