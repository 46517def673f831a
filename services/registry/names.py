"""Customer-name normalisation for collision (撞单) detection. Two registrations name the same
customer when their names agree after: NFKC (full-width → half-width), dropping spaces,
punctuation, symbols and brackets — and a bracketed place name such as （杭州） entirely —,
lower-casing, removing legal-form suffixes (股份有限公司, 有限公司, 集团, …) and a leading
province or city name (浙江省杭州市…, 杭州…). Similar (not equal) names are scored with rapidfuzz."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from rapidfuzz import fuzz

# Longest first so 股份有限公司 is removed whole rather than leaving 股份.
LEGAL_SUFFIXES = (
    "集团股份有限公司", "集团有限责任公司", "集团有限公司", "股份有限公司", "有限责任公司", "有限合伙",
    "有限公司", "分公司", "集团", "公司", "co ltd", "coltd", "ltd", "limited", "inc", "corp", "llc", "group",
)
PROVINCES = (
    "北京", "天津", "上海", "重庆", "河北", "山西", "辽宁", "吉林", "黑龙江", "江苏", "浙江", "安徽", "福建", "江西",
    "山东", "河南", "湖北", "湖南", "广东", "海南", "四川", "贵州", "云南", "陕西", "甘肃", "青海", "台湾", "内蒙古",
    "广西", "西藏", "宁夏", "新疆", "香港", "澳门",
)
CITIES = (
    "石家庄", "唐山", "保定", "太原", "大同", "沈阳", "大连", "长春", "哈尔滨", "南京", "苏州", "无锡", "常州", "南通",
    "徐州", "扬州", "杭州", "宁波", "温州", "绍兴", "嘉兴", "湖州", "金华", "台州", "合肥", "芜湖", "福州", "厦门",
    "泉州", "南昌", "济南", "青岛", "烟台", "潍坊", "郑州", "洛阳", "武汉", "宜昌", "长沙", "株洲", "广州", "深圳",
    "珠海", "佛山", "东莞", "中山", "惠州", "汕头", "海口", "三亚", "成都", "绵阳", "贵阳", "昆明", "西安", "兰州",
    "西宁", "呼和浩特", "包头", "南宁", "桂林", "拉萨", "银川", "乌鲁木齐", "雄安", "浦东", "滨海",
)
_PLACES = tuple(sorted(PROVINCES + CITIES, key=len, reverse=True))
# A place, optionally with its administrative suffix: 浙江省 / 杭州市 / 广西壮族自治区 / 浦东新区.
_PLACE_RE = re.compile(
    "(?:" + "|".join(_PLACES) + ")(?:壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区|省|市|新区|区)?"
)
_BRACKETED = re.compile(r"[（(【\[]\s*([^）)】\]]*)\s*[）)】\]]")
SIMILAR = 80.0
# Project names of one customer: stricter ("项目1" and "项目12" are different projects).
PROJECT_SIMILAR = 90.0


def _keep(ch: str) -> bool:
    cat = unicodedata.category(ch)
    # P* punctuation (brackets included), Z* separators, C* controls, S* symbols (e.g. ＋, ·, ®).
    return not (cat[0] in "PZCS" or ch.isspace())


class _DropTable(dict[int, int | None]):
    """``str.translate`` table dropping what ``_keep`` drops, each character classified once (a
    per-character Python call was most of the cost of normalising a name in bulk imports)."""

    def __missing__(self, code: int) -> int | None:
        kept: int | None = code if _keep(chr(code)) else None
        self[code] = kept
        return kept


_DROP = _DropTable()


def _strip_places(text: str) -> str:
    """Leading place names, repeatedly (浙江省杭州市…), keeping at least three characters (北京银行 stays)."""
    while True:
        m = _PLACE_RE.match(text)
        if not m or len(text) - m.end() < 3:
            return text
        text = text[m.end():]


def _bracket(m: re.Match[str]) -> str:
    inner = m.group(1)
    # （杭州）/（中国）are location qualifiers: drop them; keep other bracketed words.
    place = _PLACE_RE.fullmatch(inner) or inner in ("中国", "china")
    return "" if place else inner


@lru_cache(maxsize=65536)  # pure and hot: an import normalises each customer name several times
def normalise_name(name: str) -> str:
    text = unicodedata.normalize("NFKC", name).lower()
    text = _BRACKETED.sub(_bracket, text)
    text = text.translate(_DROP)
    for _ in range(4):  # suffixes and places can nest: 杭州某某集团有限公司
        before = text
        for suffix in LEGAL_SUFFIXES:
            bare = suffix.replace(" ", "")
            if text.endswith(bare) and len(text) > len(bare):
                text = text[: -len(bare)]
                break
        text = _strip_places(text)
        if text.startswith("中国") and len(text) > 4:
            text = text[2:]
        if text == before:
            break
    return text


def block_key(norm: str) -> str:
    """Candidates for similar names share the first two characters of the normalised name."""
    return norm[:2]


def similarity(a: str, b: str) -> float:
    """0..100; names shorter than 4 characters are only ever equal, never similar."""
    if not a or not b or min(len(a), len(b)) < 4:
        return 100.0 if a == b and a else 0.0
    return float(fuzz.ratio(a, b))


def similar(a: str, b: str, threshold: float = SIMILAR) -> bool:
    return similarity(a, b) >= threshold


def project_name_similarity(a: str, b: str) -> float:
    """Project names of one customer: token-set style ratio on NFKC text without punctuation."""
    na = "".join(ch for ch in unicodedata.normalize("NFKC", a).lower() if _keep(ch))
    nb = "".join(ch for ch in unicodedata.normalize("NFKC", b).lower() if _keep(ch))
    if not na or not nb:
        return 0.0
    return float(max(fuzz.ratio(na, nb), fuzz.partial_ratio(na, nb) if min(len(na), len(nb)) >= 4 else 0))
