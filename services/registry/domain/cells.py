"""The registry's reading of spreadsheet cells: the shared readers (``baobei.sheets.cells``:
amounts, mobiles, dates, text, codes, options; re-exported here) plus users and departments by
id, name, mobile or e-mail. Pure: no storage, no clock."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from baobei.sheets.cells import (
    CURRENCY,
    DATE_TEXT,
    EXCEL_EPOCH,
    GROUPED_NUMBER,
    ID_IN_BRACKETS,
    MULTI_SEPARATORS,
    PHONE_PREFIX,
    PLAIN_NUMBER,
    SERIAL_MAX,
    SERIAL_MIN,
    WAN,
    Read,
    code,
    day,
    display,
    half_width,
    is_blank,
    mobile,
    number,
    option,
    options,
    refused,
    split_multi,
    text,
)
from services.registry.domain.org import Department, User

__all__ = [
    "CURRENCY",
    "DATE_TEXT",
    "EXCEL_EPOCH",
    "GROUPED_NUMBER",
    "ID_IN_BRACKETS",
    "MULTI_SEPARATORS",
    "PHONE_PREFIX",
    "PLAIN_NUMBER",
    "SERIAL_MAX",
    "SERIAL_MIN",
    "WAN",
    "Read",
    "code",
    "day",
    "display",
    "half_width",
    "is_blank",
    "mobile",
    "number",
    "option",
    "options",
    "refused",
    "split_multi",
    "text",
    "Directory",
]


# ---------- people and departments ----------


@dataclass
class Directory:
    """Users and departments to resolve cells against (loaded once per import)."""

    users: dict[str, User] = field(default_factory=dict)
    departments: dict[str, Department] = field(default_factory=dict)
    _users_by: dict[str, list[User]] = field(default_factory=dict)
    _departments_by_name: dict[str, list[Department]] = field(default_factory=dict)

    @classmethod
    def of(cls, users: Iterable[User], departments: Iterable[Department] = ()) -> Directory:
        d = cls(users={u.id: u for u in users}, departments={x.id: x for x in departments})
        for u in d.users.values():
            keys = {f"name:{u.name.strip()}"} if u.name.strip() else set()
            if u.mobile:
                keys.add(f"mobile:{u.mobile}")
            if u.email:
                keys.add(f"email:{u.email.strip().casefold()}")
            for k in keys:
                d._users_by.setdefault(k, []).append(u)
        for x in d.departments.values():
            if x.name.strip():
                d._departments_by_name.setdefault(x.name.strip(), []).append(x)
        return d

    def matches_user(self, user_id: str, text: str) -> bool:
        """Whether ``text`` names the user ``user_id`` (by id, name, mobile or e-mail)."""
        u = self.users.get(user_id)
        if u is None:
            return text == user_id
        plain = half_width(text).strip()
        named, bracketed = _bracketed(plain)
        if bracketed:
            return bracketed == u.id and (not named or named == u.name)
        return plain in (u.id, u.name) or (u.mobile and mobile(plain).value == u.mobile) or (
            bool(u.email) and plain.casefold() == u.email.strip().casefold())

    def _names_department(self, department_id: str, plain: str) -> bool:
        return _names(department_id, self.departments[department_id].name, plain)

    def user(self, value: Any, *, prefer: str = "") -> Read:
        """A user id from an id, ``张三（zhangsan）``, a mobile number, an e-mail address or a
        name that only one current user has (people who left count only when nobody current
        does); ``prefer`` (the value already stored) wins whenever the cell names it, unreported
        (an exported row names its people by name and reads back unchanged)."""
        if is_blank(value):
            return Read()
        raw = display(value)
        if prefer and self.matches_user(prefer, raw):
            return Read(prefer)  # the stored user, as an export names them: confirmed, not guessed
        plain = half_width(raw).strip()
        if plain in self.users:
            return Read(plain, changed=plain != raw)
        named, bracketed = _bracketed(plain)
        if bracketed:
            u = self.users.get(bracketed)
            if u is not None and (not named or named == u.name):
                return Read(u.id, changed=True)
            return refused(f"用户 {raw} 不存在", f"unknown user {raw}")
        phone = mobile(plain).value
        for key in (f"mobile:{phone}", f"email:{plain.casefold()}", f"name:{plain}"):
            hits = self._users_by.get(key, [])
            current = [u for u in hits if not u.left] or hits
            if len(current) == 1:
                return Read(current[0].id, changed=True)
            if len(current) > 1:
                who = "、".join(f"{u.name}（{u.id}）" for u in sorted(current, key=lambda u: u.id))
                zh = "两位" if len(current) == 2 else f"{len(current)} 位"
                return refused(f"{zh}同名：{who}，请填写用户 ID",
                               f"{len(current)} users match: {who}; give the user id")
        return refused(f"用户 {raw} 不存在", f"unknown user {raw}")

    def department(self, value: Any, *, prefer: str = "") -> Read:
        """A department id from an id, ``销售一部（d-1）`` or a name only one department has;
        ``prefer`` (the value already stored) wins whenever the cell names it, unreported (an export
        names a department ``名称（id）`` when its name is not unique)."""
        if is_blank(value):
            return Read()
        raw = display(value)
        plain = half_width(raw).strip()
        if prefer and prefer in self.departments and self._names_department(prefer, plain):
            return Read(prefer)
        if plain in self.departments:
            return Read(plain, changed=plain != raw)
        named, bracketed = _bracketed(plain)
        if bracketed and bracketed in self.departments:
            return Read(bracketed, changed=True)
        hits = self._departments_by_name.get(plain, [])
        if len(hits) == 1:
            return Read(hits[0].id, changed=True)
        if len(hits) > 1:
            who = "、".join(f"{x.name}（{x.id}）" for x in sorted(hits, key=lambda x: x.id))
            return refused(f"{len(hits)} 个部门同名：{who}，请填写部门 ID",
                           f"{len(hits)} departments match: {who}; give the department id")
        return refused(f"部门 {raw} 不存在", f"unknown department {raw}")


def _names(stored_id: str, stored_name: str, plain: str) -> bool:
    """Whether ``plain`` names the stored id: the id, the name, or ``名称（id）``."""
    named, bracketed = _bracketed(plain)
    if bracketed:
        return bracketed == stored_id and (not named or named == stored_name)
    return plain in (stored_id, stored_name)


def _bracketed(text: str) -> tuple[str, str]:
    """(name, id) of ``张三（zhangsan）`` / ``张三(zhangsan)``; ("", "") otherwise."""
    m = ID_IN_BRACKETS.fullmatch(text)
    return (m[1].strip(), m[2].strip()) if m else ("", "")
