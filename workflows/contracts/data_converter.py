"""The data converter every Baobei Temporal client uses (worker, edge, starter): the SDK's default,
with the type hints of each dataclass contract resolved once instead of on every value.

The SDK turns a JSON payload into a dataclass by calling ``typing.get_type_hints`` on the class
for every value it decodes — re-evaluating the string annotations ``from __future__ import
annotations`` leaves — and again for every nested dataclass. That was ~13% of the worker's CPU
per project (docs/performance.md, the fifth step). ``DataclassFields`` does the same conversion
(the SDK's rules: unknown keys ignored, missing keys left to the constructor, ``init=False``
fields restored after it) with the hints kept per class. Payloads are encoded exactly as before,
so clients with the default converter (tests, tools) read and write the same histories."""

from __future__ import annotations

import dataclasses
import typing
import weakref
from typing import Any

from temporalio.converter import (
    CompositePayloadConverter,
    DataConverter,
    DefaultPayloadConverter,
    JSONPlainPayloadConverter,
    JSONTypeConverter,
    value_to_type,
)
from temporalio.converter._payload_converter import JSONTypeConverterUnhandled

# (field name, resolved type hint, whether __init__ takes it) per field, in definition order.
FieldHints = tuple[tuple[str, Any, bool], ...]


class DataclassFields(JSONTypeConverter):
    """Decodes dataclasses as the SDK's ``value_to_type`` does, with each class's resolved field
    hints computed once (weakly keyed: a class imported afresh by a strict sandbox goes with it)."""

    def __init__(self) -> None:
        self._hints: weakref.WeakKeyDictionary[type, FieldHints] = weakref.WeakKeyDictionary()
        self._converters: list[JSONTypeConverter] = [self]

    def fields_of(self, cls: type) -> FieldHints:
        hints = self._hints.get(cls)
        if hints is None:
            resolved = typing.get_type_hints(cls)
            hints = tuple((f.name, resolved[f.name], f.init) for f in dataclasses.fields(cls))
            self._hints[cls] = hints
        return hints

    def to_typed_value(self, hint: type, value: Any) -> Any | None | JSONTypeConverterUnhandled:
        if not isinstance(hint, type) or not dataclasses.is_dataclass(hint):
            return JSONTypeConverter.Unhandled
        if not isinstance(value, dict):
            raise TypeError(f"Cannot convert to dataclass {hint}, value is {type(value)} not dict")
        init_values: dict[str, Any] = {}
        later: dict[str, Any] = {}
        for name, field_hint, init in self.fields_of(hint):
            if name not in value:
                continue  # a required one missing fails the constructor, as in the SDK
            try:
                converted = value_to_type(field_hint, value[name], self._converters)
            except Exception as err:
                raise TypeError(f"Failed converting field {name} on dataclass {hint}") from err
            (init_values if init else later)[name] = converted
        obj = hint(**init_values)
        for name, converted in later.items():
            object.__setattr__(obj, name, converted)  # init=False fields (frozen ones too)
        return obj


DATACLASS_FIELDS = DataclassFields()


class PayloadConverter(CompositePayloadConverter):
    """The SDK's default payload converters, the JSON one decoding dataclasses through
    ``DATACLASS_FIELDS``."""

    def __init__(self) -> None:
        super().__init__(*(
            JSONPlainPayloadConverter(custom_type_converters=[DATACLASS_FIELDS])
            if isinstance(c, JSONPlainPayloadConverter) else c
            for c in DefaultPayloadConverter.default_encoding_payload_converters
        ))


DATA_CONVERTER = dataclasses.replace(DataConverter.default, payload_converter_class=PayloadConverter)
