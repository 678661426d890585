"""The template gallery's shipped templates: YAML files next to this module (ADR 0065).

Each ``*.yaml`` file here is one :class:`~missionctl.schemas.templates.TemplateSpec`, read once
with :mod:`importlib.resources` and validated by Pydantic (``schemas.datafiles``): a broken
file fails the import naming the file and the field. A file's ``name`` must be its file name.
Rendering a template into a workflow definition is :func:`render.render_template`.
"""

from collections.abc import Mapping
from importlib.resources import files
from importlib.resources.abc import Traversable
from types import MappingProxyType

from pydantic import TypeAdapter

from missionctl.gallery.render import declared_inputs, render_template, sample_inputs
from missionctl.schemas.datafiles import data_file_error, read_data_file
from missionctl.schemas.templates import TemplateSpec

__all__ = ["SHIPPED", "declared_inputs", "load_templates", "render_template", "sample_inputs"]

_TEMPLATE = TypeAdapter(TemplateSpec)


def load_templates(folder: Traversable) -> Mapping[str, TemplateSpec]:
    """Every ``*.yaml`` template in ``folder``, by name, in file-name order.

    Raises:
        DataFileError: a file is not a valid template, or its ``name`` is not its file name.
    """
    found: dict[str, TemplateSpec] = {}
    for file in sorted(folder.iterdir(), key=lambda f: f.name):
        if not file.name.endswith(".yaml"):
            continue
        template = read_data_file(file, _TEMPLATE)
        expected = file.name.removesuffix(".yaml")
        if template.name != expected:
            raise data_file_error(
                file, [f"name: is {template.name!r}; a template is named after its file"]
            )
        found[template.name] = template
    return MappingProxyType(found)


SHIPPED: Mapping[str, TemplateSpec] = load_templates(files(__name__))
"""The shipped templates, by name."""
