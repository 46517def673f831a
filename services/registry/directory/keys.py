"""Search keys of a person's name for people pickers (pure: no I/O).

A name gets one text of keys, computed when the user is written and stored beside them, so a
search is a plain ``LIKE`` over one column rather than pinyin computed per user per request:

    张三 → "|张三|zhangsan|zs|"

- the name itself (NFKC, lower case; also without spaces when it has any);
- its full pinyin without tones or separators (``zhangsan``) and its initials (``zs``), per
  *reading*. Runs of Latin letters and digits count as words (``Tom李`` → ``tomli``, ``tl``).

多音字: pypinyin's default reading is phrase-aware for given names, but a surname is read as a
surname: ``SURNAMES`` corrects the common ones (单 shan, 曾 zeng, 解 xie, 区 ou, 仇 qiu …, and
compound surnames such as 万俟 moqi). The surname's other readings are keys too, so 曾三 is
found by ``zengsan``, ``cengsan``, ``zs`` and ``cs``; the first reading (the surname one) orders
the results. Given names are keyed in their default reading only (no combinatorial blow-up).

A query is matched as typed (lower case); with the spaces removed; and, when it mixes Chinese
characters with letters (``张s``, ``zhang三``), converted to pinyin the same way."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from pypinyin import Style, lazy_pinyin, pinyin

# Bumped when the keys of a name change: rows keyed by an older version are recomputed.
KEYS_VERSION = 1
SEPARATOR = "|"
# Readings kept per name (surname readings × 1): enough for 多音字 surnames.
MAX_READINGS = 4
MAX_QUERY = 100

# Surname readings that differ from pypinyin's default reading of the character.
SURNAMES: dict[str, tuple[str, ...]] = {
    "单": ("shan",), "曾": ("zeng",), "解": ("xie",), "仇": ("qiu",), "朴": ("piao",), "区": ("ou",),
    "查": ("zha",), "乐": ("yue",), "覃": ("qin",), "盖": ("ge",), "种": ("chong",), "繁": ("po",),
    "员": ("yun",), "缪": ("miao",), "秘": ("bi",), "召": ("shao",), "翟": ("zhai",), "折": ("she",),
    "句": ("gou",), "隗": ("wei",), "祭": ("zhai",), "薄": ("bo",), "藏": ("zang",), "阚": ("kan",),
    "卜": ("bu",), "黑": ("he",), "能": ("nai",), "重": ("chong",), "长": ("chang",), "番": ("pan",),
    "蕃": ("pi",), "郇": ("xun",), "都": ("du",), "角": ("jue",), "洗": ("xian",), "么": ("yao",),
    "粘": ("nian",),
    # Compound surnames whose default reading is wrong (two syllables).
    "万俟": ("mo", "qi"), "尉迟": ("yu", "chi"), "单于": ("chan", "yu"), "乐正": ("yue", "zheng"),
    "长孙": ("zhang", "sun"),
}

_HANZI = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef]+")
_WORD = re.compile(r"[0-9a-z]+")


def normalise(text: str) -> str:
    """NFKC (full-width → half-width), lower case, the separator and control characters removed,
    runs of white space as one space."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = "".join(c for c in text if c != SEPARATOR and unicodedata.category(c)[0] != "C")
    return " ".join(text.split())


def has_hanzi(text: str) -> bool:
    return _HANZI.search(text) is not None


def _syllables(text: str) -> list[str]:
    """Default reading: pinyin syllables of the Chinese runs, words of the rest, in order."""
    out: list[str] = []
    pos = 0
    for m in _HANZI.finditer(text):
        out += _WORD.findall(text[pos:m.start()])
        out += [s for s in lazy_pinyin(m.group(), style=Style.NORMAL) if s]
        pos = m.end()
    out += _WORD.findall(text[pos:])
    return out


def readings(name: str) -> list[list[str]]:
    """The syllables of ``name`` per reading: the surname reading first (see ``SURNAMES``), then
    pypinyin's default, then the surname character's other readings; at most ``MAX_READINGS``."""
    text = normalise(name)
    default = _syllables(text)
    if not default:
        return []
    found: list[list[str]] = []

    def add(first: list[str], skip: int) -> None:
        candidate = first + default[skip:]
        if candidate not in found and len(found) < MAX_READINGS:
            found.append(candidate)

    if text[:2] in SURNAMES and len(default) >= 2:
        add(list(SURNAMES[text[:2]]), 2)
    if text[:1] and has_hanzi(text[:1]):
        if text[:1] in SURNAMES:
            add(list(SURNAMES[text[:1]]), 1)
        add(default[:1], 1)
        for reading in pinyin(text[:1], style=Style.NORMAL, heteronym=True)[0]:
            add([reading], 1)
    else:
        add([], 0)
    return found


@dataclass(frozen=True)
class NameKeys:
    # The full pinyin of the first reading: results are ordered by it (拼音序).
    sort_key: str
    # "|key|key|…|": matched with LIKE '%|q|%' (exact), '%|q%' (prefix), '%q%' (contains).
    keys: str


def name_keys(name: str) -> NameKeys:
    text = normalise(name)
    keys: list[str] = []

    def add(key: str) -> None:
        if key and key not in keys:
            keys.append(key)

    add(text)
    add(text.replace(" ", ""))
    reads = readings(name)
    for syllables in reads:
        add("".join(syllables))
        if len(syllables) > 1:
            add("".join(s[0] for s in syllables))
    sort_key = "".join(reads[0]) if reads else text
    return NameKeys(sort_key=sort_key[:200], keys=SEPARATOR + SEPARATOR.join(keys) + SEPARATOR)


def query_variants(q: str) -> list[str]:
    """The forms a query is matched in: as typed, without spaces, and in pinyin when it mixes
    Chinese characters with letters. Empty when nothing is left to match."""
    text = normalise(q)
    out: list[str] = []

    def add(v: str) -> None:
        if v and v not in out:
            out.append(v)

    add(text)
    compact = text.replace(" ", "")
    add(compact)
    if has_hanzi(compact) and _WORD.search(compact):
        for syllables in readings(compact):
            add("".join(syllables))
    return out
