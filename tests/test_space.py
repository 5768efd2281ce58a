"""The Hugging Face Space files agree with the project: its dependencies and Gradio version."""

from __future__ import annotations

import tomllib
from pathlib import Path

import gradio
import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_space_requirements_are_the_project_dependencies() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    lines = (line.strip() for line in (ROOT / "requirements.txt").read_text().splitlines())
    requirements = [line for line in lines if line and not line.startswith(("#", "-"))]
    assert requirements == pyproject["project"]["dependencies"]


@pytest.mark.parametrize("name", ["README.md", "docs/space_readme_header.md"])
def test_space_front_matter_pins_the_installed_gradio(name: str) -> None:
    path = ROOT / name
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if not text.startswith("---\n"):
        pytest.skip(f"{name} has no Space front matter")
    front_matter = text.split("---\n")[1]
    for line in ("sdk: gradio", f"sdk_version: {gradio.__version__}", "app_file: app.py"):
        assert f"\n{line}\n" in f"\n{front_matter}"
