"""Domain errors: plain Python, raised by domain and store code, translated to gRPC status by
``baobei.core.grpc_server`` and to the contract's HTTP error shape by the edge. Every message is
carried in Chinese and English; the transport picks one by the caller's locale."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FieldViolation:
    field: str
    zh: str
    en: str = ""

    def text(self, locale: str) -> str:
        return self.en if locale == "en" and self.en else self.zh


@dataclass
class DomainError(Exception):
    """Base: ``code`` is the contract's snake_case error code."""

    zh: str
    en: str = ""
    code: str = "error"
    violations: list[FieldViolation] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.en or self.zh)

    def text(self, locale: str) -> str:
        return self.en if locale == "en" and self.en else self.zh


class ValidationFailed(DomainError):
    """Bad input: INVALID_ARGUMENT / HTTP 422, with field paths."""

    def __init__(
        self, violations: list[FieldViolation], zh: str = "输入校验失败", en: str = "validation failed"
    ) -> None:
        super().__init__(zh=zh, en=en, code="validation_failed", violations=list(violations))


class NotFound(DomainError):
    def __init__(self, zh: str, en: str = "", code: str = "not_found") -> None:
        super().__init__(zh=zh, en=en, code=code)


class Forbidden(DomainError):
    def __init__(
        self, zh: str, en: str = "", code: str = "forbidden", violations: list[FieldViolation] | None = None
    ) -> None:
        super().__init__(zh=zh, en=en, code=code, violations=list(violations or []))


class Conflict(DomainError):
    """Conflict with current state: FAILED_PRECONDITION / HTTP 409."""

    def __init__(self, zh: str, en: str = "", code: str = "conflict") -> None:
        super().__init__(zh=zh, en=en, code=code)


class Gone(Conflict):
    """Used up for good (an action link already used): FAILED_PRECONDITION with its reason / HTTP 410."""

    def __init__(self, zh: str, en: str = "", code: str = "link_used") -> None:
        super().__init__(zh=zh, en=en, code=code)


# Reasons carried by FAILED_PRECONDITION that read back as Gone rather than Conflict.
GONE_REASONS = frozenset({"link_used"})


class Unauthenticated(DomainError):
    def __init__(
        self, zh: str = "未认证或令牌无效", en: str = "missing or invalid token", code: str = "unauthenticated"
    ) -> None:
        super().__init__(zh=zh, en=en, code=code)


def require(value: str, field_path: str, label_zh: str = "", label_en: str = "") -> list[FieldViolation]:
    """A one-item violation list when a required text value is empty."""
    if value.strip():
        return []
    return [FieldViolation(field_path, f"{label_zh or field_path} 为必填项", f"{label_en or field_path} is required")]
