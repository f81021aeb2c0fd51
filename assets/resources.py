"""The Dagster resources `settings`, `sentiment` and `topics`: each wraps one core configuration model of
`trustpulse/settings.py` without declaring its fields again.

`core_model_resource(Model, name)` builds a `dg.ConfigurableResource` subclass with the model's fields
(names, types, defaults and descriptions, so the UI's resource config explains each field), a nested model
becoming a nested `dg.Config`. The resource hands the core model itself to whatever asks for it
(`create_resource`), so assets, checks and sensors take `settings: dg.ResourceParam[TrustpulseSettings]`
and pass it straight to core functions; a test may bind the plain model instead of the resource.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any, ClassVar, Self

import dagster as dg
from pydantic import BaseModel, create_model
from pydantic.dataclasses import is_pydantic_dataclass
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from trustpulse.settings import SentimentConfig, TopicStageConfig, TrustpulseSettings


def _model_fields(model: type) -> dict[str, FieldInfo]:
    """The fields of a pydantic model or pydantic dataclass."""
    return model.model_fields if issubclass(model, BaseModel) else model.__pydantic_fields__  # type: ignore[attr-defined]


def _is_core_model(annotation: object) -> bool:
    return isinstance(annotation, type) and (issubclass(annotation, BaseModel) or is_pydantic_dataclass(annotation))


class CoreModelFields:
    """What a generated resource or nested config shares: the core model it mirrors, and the conversions."""

    core_model: ClassVar[type]
    model_fields: ClassVar[dict[str, FieldInfo]]

    def to_core(self) -> Any:
        """The core model with this resource's (or config's) values."""
        values = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            values[name] = value.to_core() if isinstance(value, CoreModelFields) else value
        return self.core_model(**values)

    @classmethod
    def from_core(cls, model: Any) -> Self:
        """This resource (or config) with the values of a core model."""
        values = {}
        for name, info in cls.model_fields.items():
            value, nested = getattr(model, name), info.annotation
            is_nested = isinstance(nested, type) and issubclass(nested, CoreModelFields)
            values[name] = nested.from_core(value) if is_nested else value
        return cls(**values)


class CoreModelResource(CoreModelFields, dg.ConfigurableResource):
    """A resource that hands its core model to the assets, checks and sensors asking for it."""

    def create_resource(self, context: dg.InitResourceContext) -> Any:
        return self.to_core()


class CoreModelConfig(CoreModelFields, dg.Config):
    """A nested model's fields inside a `CoreModelResource`."""


def _dagster_field(info: FieldInfo) -> tuple[Any, FieldInfo]:
    """(annotation, field) of a core model's field on the Dagster class: the same, except that a nested core
    model becomes its nested `dg.Config` (its default converted too)."""
    if not _is_core_model(info.annotation):
        return info.annotation, info
    nested = _dagster_class(info.annotation, info.annotation.__name__, CoreModelConfig, ())
    if info.default_factory is not None:
        factory: Callable[[], Any] = info.default_factory  # type: ignore[assignment]
        overrides: dict[str, Any] = {"default_factory": lambda: nested.from_core(factory())}
    elif info.default is not PydanticUndefined:
        overrides = {"default": nested.from_core(info.default)}
    else:
        overrides = {}
    return nested, FieldInfo.merge_field_infos(info, annotation=nested, **overrides)


def _dagster_class(core: type, name: str, base: type[CoreModelFields], fixed: Collection[str]) -> Any:
    fields = _model_fields(core)
    unknown = set(fixed) - set(fields)
    if unknown:
        raise ValueError(f"{core.__name__} has no field(s) {sorted(unknown)}")
    cls = create_model(  # type: ignore[call-overload]
        name,
        __base__=base,
        __doc__=core.__doc__,
        __module__=__name__,
        **{field: _dagster_field(info) for field, info in fields.items() if field not in fixed},
    )
    cls.core_model = core
    return cls


def core_model_resource(core: type, name: str, fixed: Collection[str] = ()) -> Any:
    """A `dg.ConfigurableResource` class named `name` with the fields of the core model `core` (pydantic
    model or pydantic dataclass), recursing into nested core models; it hands `core(**values)` to whoever
    asks for the resource. `fixed`: fields whose type Dagster config cannot express (a union of scalars, a
    tuple); they are not configurable in Dagster and keep the core model's default."""
    return _dagster_class(core, name, CoreModelResource, fixed)


TrustpulseSettingsResource = core_model_resource(TrustpulseSettings, "TrustpulseSettingsResource")
SentimentResource = core_model_resource(SentimentConfig, "SentimentResource")
TopicsResource = core_model_resource(TopicStageConfig, "TopicsResource", fixed=("nr_topics", "extra_stop_words"))
