"""Extract growth targets and reported figures, each with its clause and raw offsets.

One row per figure: what is measured (``indicator`` as written and ``indicator_canonical``
from ``data/lexicons/indicators.tsv``), the number (``value``, ``value_high`` for ranges,
``unit``, ``base_value`` in 元/平方米… where the scale is known), ``qualifier`` (左右, 以上,
不少于 …), ``period`` (全年, 上半年, 年均 …), ``kind`` (``target`` or ``actual``),
``is_growth_rate`` and ``direction``. Placeholders (``xx%``, ``x.xx亿元``) give a row with no
value and ``placeholder`` set, so a reader can count what was hidden.

>>> t = extract_targets("规上工业总产值前三季度计划增长24%；招商引资实际到位内资全年计划完成7亿元。")
>>> t[["indicator_canonical", "value", "unit", "period", "kind", "is_growth_rate"]].values.tolist()
[['规上工业总产值', 24.0, '%', '前三季度', 'target', True], ['实际到位内资', 7.0, '亿元', '全年', 'target', False]]
"""

from __future__ import annotations

import math
import os
import re
from bisect import bisect_left, bisect_right
from functools import lru_cache, partial
from itertools import accumulate
from pathlib import Path
from typing import Any, Callable, Iterator, Literal, NamedTuple, Sequence

import numpy as np
import pandas as pd

from . import _patterns as P
from .parallel import resolve_workers

__all__ = ["extract_targets", "iter_targets", "write_targets", "find_figures", "canonical_indicator", "mask_list_markers",
           "count_hidden",
           "main_growth_targets", "pair_targets", "TARGET_FIELDS"]

#: the columns of :func:`extract_targets`, in order (also the CLI's fields)
TARGET_FIELDS = ("doc_id", "source_file", "indicator", "indicator_canonical", "value", "value_high", "unit",
                 "base_value", "base_unit", "qualifier", "period", "kind", "is_growth_rate", "direction",
                 "placeholder", "figure", "clause", "raw_start", "raw_end")

# --- units: longest first; a scale prefix (万/亿/千) is split off for base_value ----------------
_UNITS = sorted("""
个百分点 百分点 万人次 人次 万亩次 亩次 万美元 亿美元 万欧元 美元 欧元 亿元 万元/人 万元 千元 元/人 元/月 元/年 元/亩 元 万平方米 平方米 平方公里 平米 万平方 平方 公顷
万亩 亩 公里 千米 米 万吨 吨 万株 株 万棵 棵 万只 只 万头 头 万户 户 万人 人 名 位 家 个 次 场次 场 项 条 宗 起 处 例
份 片 间 座 台 套 辆 所 批次 批 期 方 倍 % ‰ 件 封 张 部 支 篇 本 册 轮 万 亿 艘 架 盏 根 基 口 眼 栋 幢 层 组 队 类 块
万米 万公里 万辆 万台 万件 万份 万平方米 万立方米 立方米
""".split(), key=len, reverse=True)
_UNIT_RE = "|".join(re.escape(u) for u in _UNITS)
_CN = "零〇一二两三四五六七八九十百千万亿"
#: a number hidden by placeholders, with the digits written before its x's (20xx, 1x.x, 3,xxx, 1,2xx: the x's
#: alone would leave the digits to the indicator, 注册资本20), as find_placeholders reads it; then a number
_XNUM = r"(?=[0-9,]*x)(?:[0-9]{1,3},)*[0-9]*x+(?:,[0-9x]{3})*(?:\.[x0-9]+)?"
_NUM = rf"(?:{_XNUM}|[0-9]+(?:,[0-9]{{3}})*(?:\.[0-9]+)?)"
_CNNUM = f"[{_CN}]+(?:点[{_CN[:-4]}]+)?"
_RANGE_SEP = r"[-—～~至到－]"
#: a figure: number [unit] [- number] unit, with 余/多 between number and unit (the lookahead, the
#: characters a figure can start with, changes no match: it only lets most places fail at once)
FIGURE_RE = re.compile(
    rf"(?=[-0-9x{_CN}])(?P<sign>(?<=[增长速幅率为])-)?(?P<num>{_NUM}|{_CNNUM})(?P<unit1>%|‰)?"
    rf"(?:\s*{_RANGE_SEP}\s*(?P<num2>{_NUM}|{_CNNUM}))?"
    rf"(?P<approx>余|多)?(?P<ge>个亿)?(?P<unit>{_UNIT_RE})?"
)
_MONEY_SCALE = {"亿": 1e8, "万": 1e4, "千": 1e3}
#: a unit after a bare scale (万, 亿) that the units above do not list with it: 4.16亿人次, 214万千瓦, 5.67万亿元,
#: 1万个, 22万P (petaflops), 1400亿斤, 5万名, 300万标箱, 2000多亿方 (cubic metres); the units seen after a bare 万/亿
#: in the provincial reports
_SCALED_UNIT_AFTER_RE = re.compile(
    r"(?P<approx>余|多)?(?P<unit>亿元|亿|人次|千瓦时|千瓦|个|元|人|户|吨|套|台|辆|件|所|家|平方米|立方米|P(?![A-Za-z])"
    r"|斤|名|标准箱|标箱|张|场次|场|车次|次|座|列|批|亩|度|项|架|只|间|处|宗|种|头|株|棵|条|份|艘|栋|方(?![面式案向针位法]))")
_COUNT_UNITS_CN = set("家户人名亩次场所座处批株棵辆台套间项村组")
_CONCRETE_AFTER_GE = re.compile(r"^(?:村|社区|项目|企业|小区|班|网格|点|站|中心|基地|园区|公司|村民组|自然村|行政村|乡镇|街道|镇|部门|单位|示范)")

_TARGET_WORDS = re.compile(r"计划(?!免疫|生育|单列)|力争|确保|预期目标|目标|争取|拟|将要?|要(?!求)|努力")
#: where the forward-looking part of a document without plan headings begins
_PLAN_START_RE = re.compile(
    r"(?:今年|明年|下半年|下一步|20[0-9]{2}年)(?:的)?(?:经济社会发展|全[省市区县镇])?(?:的)?(?:主要)?(?:预期)?目标(?:任务)?(?:是|为)?[：:]|"
    r"(?:^|\n)[^\n]{0,12}(?:工作安排|工作计划|工作打算|工作思路|重点工作|主要任务|工作要点)[^\n]{0,12}(?:\n|$)")
_STRONG_TARGET = re.compile(r"计划(?=[增完实投新建达开申培引招发争力确（(])|力争|确保|预期目标|预期增长|预期性|目标是|目标为|拟|按增长|左右的(?:预期)?(?:增长)?目标")
#: 争取 sets a target in a plan, but reports what was won in a review (争取中央转移支付资金4113.7亿元)
_SEEK_RE = re.compile(r"争取")
_STRONG_ACTUAL = re.compile(r"同比|累计|已(?:经)?|比去年|较去年|完成全年任务|共计|共有|共[^同享建治享]|实现了|完成了|达到了|取得|截至|截止")
_SUMMARY_SECTION = re.compile(r"回顾|总结|成效|成绩|成就|情况|进展|做法|工作完成|过去|一年来|上半年(?!计划)")
_PLAN_SECTION = re.compile(r"计划|思路|打算|安排|重点工作|工作重点|目标|举措|措施|任务|要点|下半年|明年|今年工作|预期目标")
_GROWTH_BEFORE = re.compile(r"(?:增长|增速|增幅|上升|下降|提高|降低|减少|增加|回落|涨幅|下滑|增收|减收)(?:了)?(?:幅度)?(?:为|达|达到|约|近|超过|在)?\s*$")
_DOWN = re.compile(r"(?:下降|降低|减少|回落|下滑|减收)[^，；。]{0,4}$")
#: a period word (the lookahead, the characters one can start with, changes no match but makes searches faster)
_PERIOD_RE = re.compile(
    r"(?=[年全上下前第0-9一二三四五六七八九十每今明])(?:"
    r"年均|全年|上半年|下半年|前三季度|第?[一二三四]季度|[0-9一二三四五六七八九十]{1,2}\s*[-—至到]\s*[0-9一二三四五六七八九十]{1,2}\s*月(?:份)?|"
    r"每季度|每半月|每月|每周|每年|每个月|年内|今年|明年)"
)
_QUAL_BEFORE = re.compile(r"(不少于|不低于|不超过|超过|达到|力争|确保|约|近|突破|高于|低于|保持在?)\s*$")
_QUAL_AFTER = re.compile(r"^(左右|以上|以内|以下|上下)")
_SKIP_BEFORE = re.compile(r"(?:第|前|后|全[省市县区国镇]第|排名第?|列|居|位居|位列|No\.?|编号|代码|热线|电话|号码?)\s*$")
#: words stripped from the end of an indicator (with bracketed notes, month ranges and spaces)
_STRIP_END_WORDS = """
计划 预计 力争 确保 争取 要 将 已 已经 共 累计 全年 上半年 下半年 前三季度 年均 年内 今年 实现 完成 达到 达
增长 同比 上升 下降 增速 是 约 近 接近 超过 不少于 不低于 保持 提高 提升 新增 新建 引进 培育 申报 实现了 完成了 按
总计 合计 共计 合共 在 较 到 至 每季度 每半月 每月 每周 每年 分别 从 由 增加 减少 降低 增至 降至
比去年同期 比上年同期 较去年同期 较上年同期 比去年 比上年 较去年 较上年 同期相比 同口径相比 相比 同期 再 各 每人 平均 超 突破 首次 双双 稳定在 较时期 比时期 较末 比末
中有 其中有
""".split()
_INDICATOR_STRIP_END = re.compile(
    # 为, 均 and 比 as in 增速为5%、均增至9个、比上年, not the ends of 行为 (整治违章行为594起), 人均/年均 and 占比
    "(?:" + "|".join(_STRIP_END_WORDS) + r"|(?<!行)为|(?<![人年平])均|(?<!占)比|[（(][^）)]*[）)]|"
    r"[0-9一二三四五六七八九十]{1,2}\s*[-—至到]\s*[0-9一二三四五六七八九十]{1,2}\s*月(?:份)?|\s)+$"
)
#: what _INDICATOR_STRIP_END strips ends with one of these or a space: a text that ends otherwise is left as it is
_STRIP_END_LAST = frozenset(w[-1] for w in _STRIP_END_WORDS) | set("）)月份为均比")
_INDICATOR_STRIP_START = re.compile(r"^(?:[（(](?=[^）)]*$)|(?:以上|左右|以内|以下)、|时期|其中|合共|将|力争|预计|同时|并|和|及|以及|另外|此外|一是|二是|三是|四是|五是|我镇|我街道办|我街道|街道办|我办|我区|我县|我市|全镇|全街|全办|今年以来|今年|去年|上半年|全年|截至目前|目前|先后|共计|共|累计|完成|实现|[0-9一二三四五六七八九十]+[、.．]|[（(][一二三四五六七八九十0-9]+[）)])+")
_CLAUSE_SPLIT = re.compile(r"[，；。！？：:\n]")
#: what can follow the number of a figure in FIGURE_RE (a unit, 余/多, 个亿, 点, a range): a clause with no
#: digit, x or Chinese numeral followed by one of these holds no figure, and skips :func:`find_figures`
_AFTER_NUMBER = "".join(sorted({u[0] for u in _UNITS} | set("%‰余多个点") | set(_RANGE_SEP.strip("[]"))))
_FIGURE_HINT_RE = re.compile(rf"[0-9x{_CN}](?=[\s{re.escape(_AFTER_NUMBER)}])")


@lru_cache(maxsize=1 << 12)
def _to_number(s: str) -> float | None:
    s = s.replace(",", "")
    if not s or "x" in s:
        return None
    if s in _BARE_SCALE:  # 近万名: cn2an reads no bare 百/千/万
        return _BARE_SCALE[s]
    try:
        return float(s)
    except ValueError:
        pass
    import cn2an

    try:
        return float(cn2an.cn2an(s.replace("点", "点"), "smart"))
    except (ValueError, KeyError, IndexError, TypeError):
        return None


@lru_cache(maxsize=1 << 10)
def _split_scale(unit: str) -> tuple[float | None, str]:
    if unit in ("%", "‰", "个百分点", "百分点", "倍"):
        return None, ""
    if unit in ("万", "亿"):
        return _MONEY_SCALE[unit], ""
    if unit.startswith("万亿"):
        return 1e12, unit[2:]
    if unit == "平方公里":
        return 1e6, "平方米"
    if unit in ("平米", "平方米", "平方"):
        return 1.0, "平方米"
    if unit == "万平方":
        return 1e4, "平方米"
    if unit == "公里" or unit == "千米":
        return 1000.0, "米"
    if unit == "公顷":
        return 1e4, "平方米"
    if unit == "元/人":
        return 1.0, "元/人"
    if len(unit) > 1 and unit[0] in _MONEY_SCALE:
        return _MONEY_SCALE[unit[0]], unit[1:]
    return 1.0, unit


@lru_cache(maxsize=2)
def _indicator_rules(_key: str) -> tuple[tuple[re.Pattern[str], str, str], ...]:
    return _read_indicator_rules("indicators.tsv")


def _read_indicator_rules(name: str | os.PathLike) -> tuple[tuple[re.Pattern[str], str, str], ...]:
    """The rows of an indicator table (``indicators.tsv``, or a file of the same columns) as rules."""
    from .lexicons import LexiconError, read_table

    rows = read_table(name, columns={"pattern": "regex", "canonical": "str", "applies": "str", "note": "str?"},
                      may_lack=("note",))
    for r in rows:
        if r["applies"] not in ("rate", "level", "any"):
            raise LexiconError(f"{Path(name).name}:{r['_line']}: applies must be rate, level or any, got {r['applies']!r}")
    return tuple((r["pattern"], r["canonical"], r["applies"]) for r in rows)


def _file_version(path: str | os.PathLike) -> tuple[str, int, int]:
    """``(path, modification time, size)``: a key that changes when the file is edited (a missing file: zeros)."""
    try:
        st = os.stat(path)
    except OSError:  # reading it says what is wrong
        return str(path), 0, 0
    return str(path), st.st_mtime_ns, st.st_size


@lru_cache(maxsize=8)
def _rules_file(path: str, _mtime_ns: int, _size: int) -> tuple[tuple[re.Pattern[str], str, str], ...]:
    """The rules of the indicator table at ``path``, read once per version of the file (a call per indicator
    would read and compile the whole table each time)."""
    return _read_indicator_rules(path)


def canonical_indicator(indicator: str, *, is_growth_rate: bool = False,
                        rules: str | os.PathLike | tuple[tuple[re.Pattern[str], str, str], ...] | None = None) -> str:
    """Return the canonical name of ``indicator`` from ``data/lexicons/indicators.tsv``, or ``""``.

    ``rules`` is another table of the same columns (``pattern``, ``canonical``, ``applies``: rate, level or any; a
    path to a TSV file, read and checked once per version of the file), or the rules read from one; the first row
    that matches names the indicator.

    >>> canonical_indicator("规模以上工业总产值"), canonical_indicator("经济", is_growth_rate=True)
    ('规上工业总产值', '地区生产总值')
    >>> canonical_indicator("蓝莓基地")
    ''
    """
    from .lexicons import lexicon_fingerprint

    if isinstance(rules, (str, os.PathLike)):
        rules = _rules_file(*_file_version(rules))
    elif rules is not None and not (isinstance(rules, tuple) and all(isinstance(r, tuple) and len(r) == 3
                                                                      for r in rules)):
        raise TypeError(f"rules must be the path of an indicator table (pattern, canonical, applies) or the rules "
                        f"read from one, not {type(rules).__name__}")
    if not indicator:
        return ""
    if rules is None:
        return _canonical(indicator, bool(is_growth_rate), lexicon_fingerprint())
    return _first_rule(indicator, is_growth_rate, rules)


@lru_cache(maxsize=1 << 15)
def _canonical(indicator: str, is_growth_rate: bool, key: str) -> str:
    """:func:`canonical_indicator` with the rules of lexicon fingerprint ``key``, memoised."""
    return _first_rule(indicator, is_growth_rate, _indicator_rules(key)) if indicator else ""


def _first_rule(indicator: str, is_growth_rate: bool, rules: tuple[tuple[re.Pattern[str], str, str], ...]) -> str:
    for rx, canonical, applies in rules:
        if applies == "rate" and not is_growth_rate:
            continue
        if applies == "level" and is_growth_rate:
            continue
        if rx.search(indicator):
            return canonical
    return ""


_RATE_UNITS = ("%", "‰", "个百分点", "百分点")
_MONEY_UNITS = ("亿元", "万元", "元", "千元", "万美元", "亿美元", "美元", "万欧元", "欧元")


# phrases tested at every clause and figure, compiled once
_TRAILING_FIGURE_RE = re.compile(r"[0-9x.%]+$")
_QUOTED_RE = re.compile(r"“[^”]*”")
#: a preposition opening an indicator, not the first character of a word (对照, 使用, 由于, 把握)
_LEADING_PREP_RE = re.compile(r"^(?:使(?![用命])|让(?!利)|对(?![照接应标比象外口话])|把(?![握关])|将(?!军)|由(?!于)|按照|通过|围绕)")
#: what stands between the figures of a list (增长5%左右、5%以上, 分别增长8.3%、7.9%): the qualifier of the figure
#: before, then what joins the items
_LIST_BETWEEN = r"左右|以上|以内|以下|上下|、|和|与|及|\s"
_LIST_BETWEEN_RE = re.compile(f"(?:{_LIST_BETWEEN})+")
#: what is left between two figures, or before the first, that names no indicator: a change verb, what stands between
#: the figures of a list, 分别 (从4.16万亿元 *增加到* 5.67万亿元; 增长5%左右、5%以上; *分别*增长8.3%)
_NO_INDICATOR_RE = re.compile(r"(?:分别|从|由|增加|增长|增至|增|提高|提升|上升|下降|减少|降低|降至|降|优化整合|整合优化|整合|"
                              r"拓展|跃升|扩大|扩展|攀升|缩小|压缩|缩减|"
                              rf"达到|达|突破|超过|超|到|至|为|{_LIST_BETWEEN})+")
#: (with a short note in brackets after it, where it ends: 村*（社区）*, 县*（市、区）*; what follows the note is too
#: often a verb phrase to go on)
_OBJECT_RE = re.compile(rf"^[{P.HAN}A-Za-z“”]{{1,14}}(?:[（(][{P.HAN}、]{{1,5}}[）)])?")
_OBJECT_END_RE = re.compile(r"(?:的|和|与|及|等|，|进行|开展|实现|完成|达到|超过|参加|参与|建设(?=[^项工]))")
#: these end an object only after its first character (4个省级经济薄弱村*将于*…, but 5000个*已建成*自然村); so does a
#: rank reached (7家地方国企*进入*中国企业500强, 5项指标*居*全国第一, 3个学科*跻身*“双一流”), or 全部/首次 (124个县域医共体
#: *全部*达到紧密型标准), or 基本 before what was done (1万米围墙*基本*完工; not 基本农田)
_OBJECT_STOP_RE = re.compile(r"将于|将在|正在|已经|已|赴|进入|跻身|入选|位列|位居|稳居|居(?:全|前|第|首|世界|国内|同类)|全部|首次"
                             r"|基本(?=[完建实形达具覆解消落])")
#: a hidden figure (xx米 after 安装铁皮漏水锏xx处), where a redacted name (xx公司, xx村) may follow a count
_HIDDEN_FIGURE_RE = re.compile(rf"x+(?:\.x+)?(?:余|多)?(?:{_UNIT_RE})")
#: a figure's first character (what an object that runs on to the next figure stops before)
_DIGIT_NEXT_RE = re.compile(r"[0-9０-９]")
#: words at the end of such an object that belong to the next figure: its qualifier or verb (乡镇*近*, 煤炭*超*)
_BEFORE_FIGURE_END_RE = re.compile(r"(?:中有|达到|超过|达|超|近|约|为|有|共|计)+$")
#: such an object that is a change verb (拓展到, 跃升到): no object at all
_CHANGE_TO_END_RE = re.compile(r"(?:到|至)$")
#: verbs of building that jieba's dictionary does not tag as verbs (投资3600万元*新建*)
_BUILD_VERBS = frozenset(("新建", "扩建", "改建", "续建"))
#: what separates the items of a list of indicators (一般公共预算收入、规下工业营业收入)
_LIST_SEPARATORS = "、，, "
_DIGITS_X = "0123456789x"
_DATE_AFTER_RE = re.compile(r"^(?:年|月|日|号|时|届|期间|周年|世纪|代)")
_QUOTE_CLOSES_SOON_RE = re.compile(r"^[^”」\"]{0,12}[”」\"]")
_SESSION_AFTER_RE = re.compile(r"^(?:会议|全会|全体会议|代表大会|党代会|常委会)")
_LATIN_AFTER_RE = re.compile(r"^[A-Za-z]")
_NAME_PART_AFTER_RE = re.compile(r"^(?:号|大|化|美|治|提|比|晒|进|好|无|有|不|零|全|个一)")
#: a unit followed by these is part of a name or a word, not a figure: 三元楼, 三元里 (a building, a place);
#: 3.0方案 (a plan's version), 三方面
_NAME_AFTER_UNIT = {"元": re.compile(r"^[楼桥里街路村巷]"), "方": re.compile(r"^[案面位式针]")}
#: 每 a few characters before 一个/一次 …: a count per unit of time or place (每周一次, 每村建设一个“合事点”);
#: not 每一个 (every one)
_EACH_BEFORE_RE = re.compile(r"每[^，；。一]{1,5}$")
#: a verb right before 一个/一名/一期 … that counts what follows (组织一名书记参加培训, 申报一个疫木除治点,
#: 对一个村开展整顿), where 打造一个/是一个 … is an article
_COUNT_VERB_BEFORE_RE = re.compile(r"(?:组织|申报|评选|新建|建成|建设|举办|召开|开展|成立|设立|创建|对)了?$")
#: after 一个 …: a modifier that ends in 的 makes 一个 an article (建设一个美丽宜居的家园)
_MODIFIER_AFTER_RE = re.compile(r"[^，；。、：\n]{0,12}的")
#: between two counts of a list (十个卫生“十佳组”*和*十个卫生“十差组”)
_LIST_NEXT_RE = re.compile(r"[^，；。：\n]{0,12}(?:和|及|以及|、)")
#: what 一期/三期 … count after a verb: sessions of a course (一期村（社区）党组织书记培训班), not phases (二期工程)
_SESSIONS_AFTER_RE = re.compile(r"[^，；。、：\n]{0,12}(?:培训|班|讲座|论坛|课堂|夜校|沙龙)")
#: a bare 百/千/万 is a number only after a word of rough size (近万名, 上千人, 逾百家), not in 千家万户
_BARE_SCALE = {"百": 100.0, "千": 1000.0, "万": 10000.0}
_ROUGH_BEFORE_RE = re.compile(r"[近上逾超约]$")
_CN_DIGIT_END_RE = re.compile(r"[一二三四五六七八九十]$")
_WORD_CHAR_RE = re.compile(rf"[{P.HAN}A-Za-z]")
#: bare numbers listed right before a figure, which share its unit (分别提高*15、*22个百分点, *20.9、36.2、*54个百分点);
#: searched with the figure's start as end
_BARE_LIST_RE = re.compile(r"(?<![0-9x.,/%‰])(?:[0-9x]+(?:\.[0-9x]+)?、)+$")
_BARE_ITEM_RE = re.compile(r"[0-9x]+(?:\.[0-9x]+)?")
_PROJECT_AFTER_RE = re.compile(r"^(?:[）)]|项目|工程)")
_RATE_WORD_RE = re.compile(r"增速|增幅|涨幅")
_RATE_AFTER_RE = re.compile(r"^(?:的)?(?:增速|增幅|增长)")
_SHARE_BEFORE_RE = re.compile(r"(?:占|率|比重|比例|任务的|进度的?|完成|达)[^，；。]{0,2}$")
_SPACE_RE = re.compile(r"\s+")
_MET_GOAL_RE = re.compile(r"完成(?:了)?(?:全年)?(?:预期|既定)?目标(?:任务)?")
_EXPECTED_RE = re.compile(r"预计")
#: what a project will yield a year once running (预计实现年产值4000万元, 建成后可实现年销售收入, 可带动农户养殖x万头):
#: a projection, even in a review, where 预计 is otherwise an estimate of the year's outcome (预计全年完成xxx万元)
_PROJECTION_RE = re.compile(r"预计[^，；。]{0,4}年(?:产值|销售|营业|税收|利税|产量|收入|纳税)|(?:建成|投产|达产|运营)后[^，；。]{0,2}(?:预计|可|将|能)"
                            r"|可(?:带动|容纳|新增|吸纳|安置)")
#: how much of a clause the patterns read around a figure: the _WINDOW characters before it (and the spaces it
#: follows) for those anchored at the end of the text before it (增长, 不少于, 下降 …), the _WINDOW after it for
#: those anchored at the start of the text after it (左右, an object counted), each more than any of them matches,
#: so a figure is read as if its clause were whole, in time that does not grow with the clause
_WINDOW = 64
#: longer than any match of the patterns a clause is searched for once, however many figures it holds
#: (:class:`_Seen`): 计划, 同比, 增速 … anywhere before a figure (with their look-aheads)
_LONGEST = 32
#: a clause longer than this (a flattened table: thousands of figures and no break) is read a _WINDOW each side of
#: each figure (a clause of prose is read whole: the same rows, in fewer steps), and given in each of its figures'
#: rows as the _WINDOW characters each side of the figure, with the raw offsets of that part (the whole clause in
#: every row would make a table of the square of its length); the longest clause holding a figure in the bundled
#: and provincial corpora has 102 characters
_CLAUSE_MAX = 200


_VERB_TAGS = frozenset(("v", "vn", "vd"))


def _ends_with_verb(before: str) -> bool:
    """True when the words before a figure end with a verb (新建2家, 理清8类), so the figure counts what follows.

    ``before`` may be the end of the text before the figure only (:func:`_tail`): its last eight characters (after
    figures and spaces) are all that is read."""
    from .tokenize import cut_words, has_tag

    s = _TRAILING_FIGURE_RE.sub("", before.strip())
    if not s:
        return False
    toks = cut_words(s[-8:])
    return bool(toks) and has_tag(toks[-1], tags=_VERB_TAGS)


@lru_cache(maxsize=1 << 14)
def _is_no_object(words: str) -> bool:
    """True when ``words``, found after an amount of money, say where or how it goes rather than what it buys: they
    open with a preposition (2亿元 *在我镇*兴建) or are one verb (1065万元 *覆盖*4个村)."""
    from .tokenize import cut_words, has_tag

    toks = cut_words(words)
    return bool(toks) and (has_tag(toks[0], tags=("p",))
                           or (len(toks) == 1 and (toks[0] in _BUILD_VERBS or has_tag(toks[0], tags=("v",)))))


def _strip_ends(s: str) -> str:
    """``s`` without the words at its ends that name no indicator (_INDICATOR_STRIP_END, _INDICATOR_STRIP_START)."""
    for _ in range(4):
        new = _INDICATOR_STRIP_END.sub("", s) if s and (s[-1] in _STRIP_END_LAST or s[-1].isspace()) else s
        new = _INDICATOR_STRIP_START.sub("", new)
        if new == s:
            break
        s = new
    return s


@lru_cache(maxsize=1 << 14)
def _clean_indicator(before: str) -> str:
    s = _strip_ends(before)
    if "“" in s:
        # a quoted name goes (“新三样”出口), and with it what it left at the end (较“十三五”同期分别 → 较同期分别)
        # when nothing but a quoted name at its end names it (新建“爱心驿站”), the name stays, without its quotes
        unquoted = _strip_ends(_QUOTED_RE.sub("", s))
        s = unquoted or (_strip_ends(_drop_quotes(s)) if s.endswith("”") else "")
    s = _LEADING_PREP_RE.sub("", s)
    s = s.strip("的、 ")
    if len(s) > 24:
        cut = s[-24:]
        if s[-25] not in _LIST_SEPARATORS:  # the cut fell inside an item of a list: start at the next item
            i = min((j for j in map(cut.find, _LIST_SEPARATORS) if j >= 0), default=-1)
            if 0 <= i < 8:
                cut = cut[i + 1:]
        s = cut
    return s


def _named(indicator: str) -> str:
    """``indicator``, or ``""`` when it is only words that name no indicator (增加到, 左右、, 分别)."""
    return "" if not indicator or _NO_INDICATOR_RE.fullmatch(indicator) else indicator


def _object_after(after: str) -> str:
    """What a count is of, named after it (新建2家 *老年食堂*); not a qualifier (30个 *以上*)."""
    q = _QUAL_AFTER.match(after)
    if q:
        after = after[q.end():]
    m = _OBJECT_RE.match(after)
    if not m or (after[0] == "x" and _HIDDEN_FIGURE_RE.match(after)):
        return ""  # (补贴xxx人*xxxxx元*/月: the next figure, hidden, is no object)
    s = _LEADING_PREP_RE.sub("", m.group())  # 1次*对*困难群体的摸底排查
    end = _OBJECT_END_RE.search(s)
    if end:
        s = s[:end.start()]
    stop = _OBJECT_STOP_RE.search(s, 1)
    if stop:
        s = s[:stop.start()]
    if s and _DIGIT_NEXT_RE.match(after, m.end()) and m.group().endswith(s):
        # the words run on to the next figure: what stands before it belongs to that figure (80个乡镇*近*300万群众,
        # 从39个*拓展到*91个: a change verb is no object at all)
        if _CHANGE_TO_END_RE.search(s):
            return ""
        s = _BEFORE_FIGURE_END_RE.sub("", s)
    if s.endswith("为") and not s.endswith("行为"):  # 由51家整合为33家: a verb and its 为
        s = s[:-1]
    return _unquote_object(s)


def _unquote_object(s: str) -> str:
    """An object without the quotes of a name that is all of it (116个*“美丽街区”*), keeping those of a name it
    begins with (196个*“两重”项目*); a quote left open where the object was cut goes."""
    if s.startswith("“") and s.find("”") == len(s) - 1:
        return s[1:-1]
    return _drop_quotes(s) if s.count("“") != s.count("”") else s


def _drop_quotes(s: str) -> str:
    return s.replace("“", "").replace("”", "")


class _Figure(NamedTuple):
    """One figure of :func:`find_figures`, offsets into the text searched."""

    start: int
    end: int
    figure: str
    value: float | None
    value_high: float | None
    unit: str
    approx: str
    placeholder: bool


def find_figures(text: str) -> list[dict[str, Any]]:
    """Find every figure in ``text`` (number + unit, ranges, placeholders); offsets are into ``text``.

    Keys: ``start``, ``end``, ``figure``, ``value``, ``value_high``, ``unit``, ``approx``,
    ``placeholder``. Years, dates, ordinals (第5, 全市第1), names in quotes ("1586"), codes and
    numerals in formula names (三个一号工程) are not figures.

    >>> [(f["figure"], f["value"], f["value_high"], f["unit"]) for f in find_figures("推动建立1-2个小区业主委员会，新建两家食堂，2024年")]
    [('1-2个', 1.0, 2.0, '个'), ('两家', 2.0, None, '家')]
    """
    return [f._asdict() for f in _figures(text)]


def _figures(text: str) -> list[_Figure]:
    """:func:`find_figures` as named tuples."""
    out: list[_Figure] = []
    last_end, last_unit = 0, ""  # the end and unit of the last figure found
    for m in FIGURE_RE.finditer(text):
        sign, num, unit, num2, approx, ge, unit2 = m.groups()
        unit = unit or ""
        if ge:
            unit2 = "亿元"
        elif unit2 is None:
            unit2 = ""
        if not unit:
            unit = unit2
        elif unit2 and unit2 not in ("%", "‰"):
            continue  # 5%个 is not a figure
        if not unit:
            continue
        # from here on, unit is not empty
        start, end = m.span()
        if unit in ("万", "亿"):
            scaled = _SCALED_UNIT_AFTER_RE.match(text, end)  # 5万余个: 余/多 between the scale and the unit too
            if scaled and not (unit == "亿" and scaled["unit"].startswith("亿")) and not (approx and scaled["approx"]):
                unit, end = unit + scaled["unit"], scaled.end()
                approx = approx or scaled["approx"]
        before = text[start - 6 if start > 6 else 0:start]
        after = text[end:end + 8]
        # not figures: years/dates, ordinals, serial numbers, quoted names, formula names
        if unit == "个" and _DATE_AFTER_RE.match(after):
            continue
        if unit in ("年", "月", "日"):
            continue
        if _SKIP_BEFORE.search(before):
            continue
        if before.endswith(("“", "「", "\"")) and _QUOTE_CLOSES_SOON_RE.search(text[end:end + 14]):
            continue  # a figure inside a quoted name: “1586”专项行动, “三个一号工程”
        if unit in ("次", "届") and _SESSION_AFTER_RE.match(after):
            continue  # 三次会议 is the third session, not three events
        if unit == "米" and _LATIN_AFTER_RE.match(after):
            continue
        if unit in _NAME_AFTER_UNIT and _NAME_AFTER_UNIT[unit].match(after):
            continue
        if num[0] not in _DIGITS_X:  # a Chinese numeral
            # after a verb that counts (组织一名书记, 对三个场), per unit (每周一次) or next in a list of counts (三个网站和
            # 一个网上学校), and not before a 的 modifier, a numeral counts what follows; 一个/一名 … otherwise is an
            # article, and 一批 (a batch of) never counts (looked at only where it decides: 个, 期, 一)
            counted = (unit in ("个", "期") or num == "一") and unit != "批" \
                and not _MODIFIER_AFTER_RE.match(text, end, end + 16) and bool(
                _COUNT_VERB_BEFORE_RE.search(before) or _EACH_BEFORE_RE.search(before)
                or (unit == last_unit and _LIST_NEXT_RE.fullmatch(text, last_end, start)))
            if unit[0] in "万亿":  # 三亿人次 (a scale, then any unit)
                pass
            elif unit == "个":
                if not counted and not _CONCRETE_AFTER_GE.match(after):
                    continue
            elif unit == "期" and counted and _SESSIONS_AFTER_RE.match(text, end, end + 16):
                pass  # 组织一期培训班 (not 一期工程, a phase)
            elif unit not in _COUNT_UNITS_CN and unit not in ("万元", "亿元", "元", "万人", "平方米", "公里", "米", "吨"):
                continue
            if _NAME_PART_AFTER_RE.match(after):
                continue
            if num == "一" and not counted and unit not in ("万元", "亿元"):
                continue  # 一家/一个 as an article
            if _CN_DIGIT_END_RE.search(before):
                continue
            if num in _BARE_SCALE and not _ROUGH_BEFORE_RE.search(before):
                continue  # 千家万户, 万人空巷
        if unit in ("个", "次") and num.isdigit() and len(num) >= 5:
            continue  # 12345 平台
        if unit == "期" and _WORD_CHAR_RE.match(text[start - 1:start] or " ") and _PROJECT_AFTER_RE.match(after):
            continue  # 安博1期 is a project name
        if sign:
            num = "-" + num
        placeholder = "x" in num or (num2 is not None and "x" in num2)
        value = _to_number(num) if not placeholder else None
        value_high = _to_number(num2) if num2 and not placeholder else None
        if not placeholder and value is None:
            continue
        if not placeholder and value_high is not None and value is not None and value_high < value:
            value_high = None if value_high == 0 else value_high
        if text[start - 1:start] == "、" and num2 is None and not sign and unit != "期":  # (共3、4期工程: phases)
            out += _listed_before(text, start, last_end, unit)
        out.append(_Figure(start, end, text[start:end], value, value_high, unit, approx or "", placeholder))
        last_end, last_unit = end, unit
    return out


def _listed_before(text: str, start: int, since: int, unit: str) -> list[_Figure]:
    """The bare numbers listed right before the figure at ``start`` (after ``since``, where the figure before it
    ends), as figures of its ``unit``: 分别提高*15、*22个百分点. The list follows a Chinese word, not a heading's
    number (*1、*30个村), an ordinal's 第 or the digits of a code (G*15、*G25)."""
    m = _BARE_LIST_RE.search(text, max(since, start - 48), start)
    if not m or m.start() <= since or not P.HAN_RE.match(text, m.start() - 1) \
            or _SKIP_BEFORE.search(text, max(0, m.start() - 6), m.start()):
        return []
    out = []
    for item in _BARE_ITEM_RE.finditer(text, m.start(), m.end()):
        num = item.group()
        placeholder = "x" in num
        value = None if placeholder else _to_number(num)
        if value is None and not placeholder:
            return []
        out.append(_Figure(item.start(), item.end(), num, value, None, unit, "", placeholder))
    return out


#: an inline list number after a sentence or line break; searched in the text behind a "\n", so at its start too
_INLINE_MARKER_RE = re.compile(r"[。；：:\n]([0-9]{1,2})[.．、](?=[0-9]*[^0-9])")


def mask_list_markers(text: str) -> str:
    """Blank out inline list numbers (``1.`` … ``4.``) so ``4.95亩`` after ``3.`` reads as item 4, 95亩.

    Offsets are kept: markers are replaced by spaces of the same length.

    >>> mask_list_markers("1.职教中心区块推进征收。2.七里王区块启动。3.打通断头路。4.95亩村留地完成农转用。")[-14:]
    '  95亩村留地完成农转用。'
    """
    out: list[str] = []
    expected = 1
    last_end = -10**9
    done = 0
    for m in _INLINE_MARKER_RE.finditer("\n" + text):
        start, end = m.start(1) - 1, m.end() - 1  # offsets into text
        n = int(m.group(1))
        if start - last_end > 400:
            expected = 1
        if n == expected:
            out += (text[done:start], " " * (end - start))
            done = end
            expected = n + 1
            last_end = end
    if not out:
        return text
    out.append(text[done:])
    return "".join(out)


@lru_cache(maxsize=1 << 12)
def _section_default(section_path: str, doc_type: str) -> str:
    """target/actual from the heading path, the top-most heading with a signal deciding."""
    for title in section_path.split(" / ") if section_path else []:
        plan = _PLAN_SECTION.search(title)
        summ = _SUMMARY_SECTION.search(title)
        if plan and summ:
            return "target" if plan.start() > summ.start() else "actual"
        if plan:
            return "target"
        if summ:
            return "actual"
    if doc_type in ("summary",):
        return "actual"
    if doc_type in ("plan", "思路", "personal plan"):
        return "target"
    return ""


def _section_spans(sections: pd.DataFrame) -> dict[str, list[tuple[int, int, str]]]:
    """doc_id → ``(start, end, "title / subtitle / …")`` of each of its sections, in one pass over the table."""
    cols = [sections[c].tolist() for c in _SECTION_COLUMNS]
    by_id = {sid: (str(title), pid) for _, sid, pid, title, _, _ in zip(*cols)}
    out: dict[str, list[tuple[int, int, str]]] = {}
    for doc_id, sid, _, _, start, end in zip(*cols):
        path, cur = [], sid
        while cur and cur in by_id and len(path) < 64:
            title, parent = by_id[cur]
            path.append(title)
            cur = parent if isinstance(parent, str) else None
        out.setdefault(doc_id, []).append((int(start), int(end), " / ".join(reversed(path))))
    return out


_SECTION_COLUMNS = ["doc_id", "section_id", "parent_id", "title", "start", "end"]


def _piece_sections(sections: pd.DataFrame, doc_ids: pd.Series
                    ) -> Callable[[int, int], pd.DataFrame | dict[str, list[tuple[int, int, str]]]]:
    """``sections_of(a, b)``: the rows of ``sections`` of the documents ``doc_ids[a:b]`` (the columns
    :func:`_section_spans` reads), for a worker to make their spans (in this process, for the whole corpus at once,
    they were 35 MB of a 100 MB corpus's peak and 0.4 s of its time).

    A piece's sections are found by bisection in document order: a slice when the table lists them in that order
    already (a loaded corpus does), else a take; with a doc_id listed twice, the spans of all are made once, here.
    """
    doc_index = pd.Index(doc_ids)
    if not len(sections) or not len(doc_index):
        return lambda a, b: {}
    if not doc_index.is_unique:
        every = _section_spans(sections)
        return lambda a, b: every
    sec_doc = doc_index.get_indexer(sections["doc_id"])
    order = np.argsort(sec_doc, kind="stable") if (np.diff(sec_doc) < 0).any() else None
    if order is not None:
        sec_doc = sec_doc[order]
    needed = sections[_SECTION_COLUMNS]

    def sections_of(a: int, b: int) -> pd.DataFrame | dict[str, list[tuple[int, int, str]]]:
        i, j = np.searchsorted(sec_doc, a), np.searchsorted(sec_doc, b)
        if i == j:
            return {}
        return needed.iloc[i:j] if order is None else needed.iloc[order[i:j]]

    return sections_of


def _section_at(spans: list[tuple[int, int, str]], pos: int) -> str:
    """The heading path of the innermost section holding ``pos`` (the last listed of those starting latest)."""
    sec_path = ""
    best = -1
    for s, e, path in spans:
        if s <= pos < e and s >= best:
            sec_path, best = path, s
    return sec_path


#: the fields of a row of :func:`_doc_rows`, in order; ``_start``/``_end`` are the clause's offsets in the text
_ROW_FIELDS = ("indicator", "indicator_canonical", "value", "value_high", "unit", "base_value", "base_unit",
               "qualifier", "period", "kind", "is_growth_rate", "direction", "placeholder", "figure", "clause",
               "_start", "_end", "section")


def _last_period(text: str) -> str:
    """The last period word (全年, 1-3月 …) in ``text``, or ``""``."""
    last = None
    for last in _PERIOD_RE.finditer(text):
        pass
    return last.group() if last is not None else ""


class _Periods:
    """The period words of a text, found in one pass: :meth:`last` is ``_last_period(text[s:e])`` for any span."""

    def __init__(self, text: str) -> None:
        self.text = text
        found = list(_PERIOD_RE.finditer(text))
        self.starts = [m.start() for m in found]
        self.ends = [m.end() for m in found]
        self.words = [m.group() for m in found]

    def last(self, s: int, e: int) -> str:
        i = bisect_left(self.starts, e)  # words starting before e: [0, i)
        j = bisect_left(self.starts, s)  # words starting before s: [0, j)
        if (i and self.ends[i - 1] > e) or (j and self.ends[j - 1] > s):
            # a word runs over an end of the span, where a search of the span alone may find another
            return _last_period(self.text[s:e])
        # else the span's own search finds the same words (no pattern looks around), those in [j, i)
        return self.words[i - 1] if i > j else ""


def _tail(clause: str, end: int) -> str:
    """The end of ``clause[:end]`` that a pattern anchored at its end reads: the spaces it ends with and the
    :data:`_WINDOW` characters before them."""
    start = end
    while start and clause[start - 1].isspace():
        start -= 1
    return clause[max(0, start - _WINDOW):end]


class _Seen:
    """Whether a pattern matches in ``text[:end]``, for ends that do not decrease (the figures of a clause, left to
    right): each call searches only the text past the last end (with :data:`_LONGEST` characters before it), so a
    clause of many figures is searched once, not once per figure.

    A match found stays found: a longer text holds it, as the characters an end is followed by (a figure's first)
    begin none of the words the patterns look ahead for."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._state: dict[Any, tuple[int, bool]] = {}  # pattern → (the last end, found before it)

    def __call__(self, rx: re.Pattern[str], end: int) -> bool:
        last, found = self._state.get(rx, (0, False))
        if not found:
            found = rx.search(self.text, max(0, last - _LONGEST), end) is not None
        self._state[rx] = (end, found)
        return found


class _Lookback:
    """What the words before a figure of ``clause`` say, searched once per clause: :meth:`in_context` reads the
    tail of the sentence before the clause and the clause before the figure, with 完成目标 read as 完成 (as
    ``_MET_GOAL_RE.sub("完成", …)`` of that text would: no such phrase runs over a figure's first character);
    :meth:`in_clause` the clause before the figure."""

    def __init__(self, clause: str, sentence_tail: str) -> None:
        ctx = sentence_tail + clause
        parts: list[str] = []
        self._ends: list[int] = []  # where each 完成目标 … ends in ``ctx``
        self._removed: list[int] = []  # the characters taken out up to there
        done = 0
        for m in _MET_GOAL_RE.finditer(ctx):
            parts += (ctx[done:m.start()], "完成")
            done = m.end()
            self._ends.append(done)
            self._removed.append((self._removed[-1] if self._removed else 0) + len(m.group()) - 2)
        parts.append(ctx[done:])
        self._ctx = _Seen("".join(parts))
        self._clause = _Seen(clause)
        self._offset = len(sentence_tail)

    def in_context(self, rx: re.Pattern[str], end: int) -> bool:
        end += self._offset
        i = bisect_right(self._ends, end)
        return self._ctx(rx, end - (self._removed[i - 1] if i else 0))

    def in_clause(self, rx: re.Pattern[str], end: int) -> bool:
        return self._clause(rx, end)


def _figure_clauses(text: str, masked: str) -> Iterator[tuple[int, str, list[_Figure], str | None]]:
    """Yield ``(start, clause, figures, clause_before)`` for each clause of ``text`` that holds figures.

    Clauses are the text between the marks of ``_CLAUSE_SPLIT`` (，；。！？： and line breaks); figures are
    found in ``masked`` (``text`` with list markers masked, so the clauses are at the same offsets).
    ``clause_before`` is the nearest clause before that is not blank, when it holds no figures (else ``None``).
    """
    clauses = _CLAUSE_SPLIT.split(text)
    starts = list(accumulate([len(c) + 1 for c in clauses], initial=0))
    pos, last = 0, -1
    # only the clauses where a figure may start are looked at (the hint may look past a clause's end: more
    # clauses are looked at then, never fewer)
    while m := _FIGURE_HINT_RE.search(masked, pos):
        i = bisect_right(starts, m.start()) - 1
        a, pos = starts[i], starts[i + 1]
        clause = clauses[i]
        figures = _figures(masked[a:a + len(clause)])
        if not figures:
            continue
        j = i - 1
        while j > last and not clauses[j].strip():
            j -= 1
        yield a, clause, figures, (clauses[j] if j > last else None)
        last = i


def _growth_rate(unit: str, value: float | None, before: str, after: str,
                 said_in_clause: Callable[[re.Pattern[str]], bool]) -> tuple[bool, str]:
    """``(is_growth_rate, direction)`` of a figure, from the text before it (or its end: :func:`_tail`), the text
    after it (or its start) and whether 增速/增幅/涨幅 stand anywhere in the clause before it (``said_in_clause``)."""
    if unit not in _RATE_UNITS:
        return False, ""
    growth = _GROWTH_BEFORE.search(before) is not None
    if not (growth or said_in_clause(_RATE_WORD_RE) or _RATE_AFTER_RE.match(after)):
        return False, ""
    if not growth and _SHARE_BEFORE_RE.search(before):
        return False, ""  # a share (占比, 完成率 …), not a growth rate
    return True, "下降" if (_DOWN.search(before) or (value is not None and value < 0)) else "增长"


def _qualifier(after: str, approx: str, before: str) -> str:
    """左右/以上 … after a figure, else its 余/多, else 不少于/约 … at the end of the text before it."""
    qa = _QUAL_AFTER.match(after)
    if qa:
        return qa.group(1)
    if approx:
        return approx
    qb = _QUAL_BEFORE.search(before)
    return qb.group(1) if qb else ""


@lru_cache(maxsize=1 << 10)
def _period_word(period: str) -> str:
    """A period word as it is reported: 1 - 3月份 → 1-3月, 年内 → 全年, 今年/明年 → ``""``."""
    period = _SPACE_RE.sub("", period).replace("份", "")
    if period in ("今年", "年内"):
        period = "全年" if period == "年内" else ""
    if period == "明年":
        period = ""
    return period


def _found_in(text: str, rx: re.Pattern[str]) -> bool:
    return rx.search(text) is not None


def _kind(said: Callable[[re.Pattern[str]], bool], said_in_clause: Callable[[re.Pattern[str]], bool],
          sentence_actual: bool, default: str) -> str:
    """``target`` or ``actual`` of a figure: from strong words in its context (``said``: the tail of the sentence
    before the clause and the clause before it, 完成目标 read as 完成; ``said_in_clause``: the clause before it), else
    the section's ``default``."""
    if said(_PROJECTION_RE):
        return "target"
    if said(_STRONG_TARGET) or (default != "actual" and said(_SEEK_RE)):
        kind = "target"
    elif sentence_actual or said_in_clause(_STRONG_ACTUAL):
        kind = "actual"
    elif default:
        kind = default
    elif said(_TARGET_WORDS):
        kind = "target"
    else:
        kind = "actual"
    if default == "actual" and said(_EXPECTED_RE):
        kind = "actual"
    return kind


def _doc_rows(text: str, doc_type: str, spans: list[tuple[int, int, str]]) -> list[tuple[Any, ...]]:
    """Rows (tuples of :data:`_ROW_FIELDS`) of the figures of one document."""
    from .lexicons import lexicon_fingerprint

    key = lexicon_fingerprint()  # the indicator rules that apply (read once per chunk: see _targets_chunk)
    rows: list[tuple[Any, ...]] = []
    masked = mask_list_markers(text)
    periods: _Periods | None = None
    plan_start: int | None = -1  # where the plan part begins (None: nowhere); -1 until it is first needed
    # the indicator of a figure that has none: the last one found, or the short clause before without
    # figures, cleaned only when it is needed (``carried_raw``)
    carried, carried_raw = "", False
    sent_start, looked = 0, 0  # where the sentence of the last clause starts; how far breaks were looked for
    for a, clause, figures, clause_before in _figure_clauses(text, masked):
        if clause_before is not None:
            carried, carried_raw = (clause_before if len(clause_before) <= 40 else ""), True
        # sentence context: from the previous 。 or line start (looked for after the last clause's only)
        sent_start = max(text.rfind("。", looked, a), text.rfind("\n", looked, a)) + 1 or sent_start
        looked = a
        sentence_tail = text[max(sent_start, a - 30):a]
        sentence_actual = _STRONG_ACTUAL.search(sentence_tail[-20:]) is not None
        if periods is None:
            periods = _Periods(text)
        sentence_period = periods.last(sent_start, a)
        sec_path = _section_at(spans, a)
        default = _section_default(sec_path, doc_type)
        if not default and doc_type not in ("plan", "思路"):
            if plan_start == -1:
                pm = _PLAN_START_RE.search(text)
                plan_start = pm.start() if pm else None
            if plan_start is not None:
                default = "actual" if a < plan_start else "target"
        # a clause of a flattened table (thousands of figures, no break) is read a window each side of each figure,
        # and what is said anywhere before a figure is looked up in ``look``, which searches the clause once; a
        # clause of prose is read whole (the same rows: fewer steps when the clause is short)
        look = _Lookback(clause, sentence_tail) if len(clause) > _CLAUSE_MAX else None
        prev_end, prev_indicator, prev_rate = 0, "", None
        for f in figures:
            unit = f.unit
            if look is not None:  # the row gives the part of the clause around the figure, and its offsets
                before, after = _tail(clause, f.start), clause[f.end:f.end + _WINDOW]
                said, said_in_clause = partial(look.in_context, end=f.start), partial(look.in_clause, end=f.start)
                s0, s1 = max(0, f.start - _WINDOW), min(len(clause), f.end + _WINDOW)
            else:
                before, after = clause[:f.start], clause[f.end:]
                s0, s1 = 0, len(clause)
                said = partial(_found_in, _MET_GOAL_RE.sub("完成", sentence_tail + before))
                said_in_clause = partial(_found_in, before)
            if prev_rate is not None and unit in _RATE_UNITS and _LIST_BETWEEN_RE.fullmatch(clause[prev_end:f.start]):
                is_rate, direction = prev_rate  # the next of a list of rates: 分别增长35.4%、44.0%
            else:
                is_rate, direction = _growth_rate(unit, f.value, before, after, said_in_clause)
            qualifier = _qualifier(after, f.approx, before)
            # period: the last period word before the figure in the clause, else in the sentence
            period = _period_word(periods.last(a, a + f.start) or sentence_period)
            # indicator: the noun phrase before the figure (after the figure before it in the clause: if only a change
            # verb or a qualifier stands between them, the same indicator), else the object counted after it
            indicator = _named(_clean_indicator(clause[prev_end:f.start])) or prev_indicator
            obj = _named(_object_after(after)) if unit not in _RATE_UNITS else ""  # not 增至 (从0.5个增至4.8个)
            if obj and unit.endswith(_MONEY_UNITS) and _is_no_object(obj):
                obj = ""
            if not obj and not indicator and after.startswith("的") and unit not in _RATE_UNITS:
                obj = _named(_object_after(after[1:]))  # nothing before names it: 其中3200平米*的*高标准钢架大棚
            if obj and (not indicator or not unit.endswith(_MONEY_UNITS) or _ends_with_verb(before)):
                indicator = obj
            if not indicator:
                if carried_raw:
                    carried, carried_raw = _clean_indicator(carried), False
                indicator = carried
            # kind ("完成预期目标" reports an outcome, it does not set a target)
            kind = _kind(said, said_in_clause, sentence_actual, default)
            scale, base_unit = _split_scale(unit)
            value = f.value if f.value is not None else math.nan
            rows.append((
                indicator, _canonical(indicator, is_rate, key), value,
                f.value_high if f.value_high is not None else math.nan, unit,
                f.value * scale if (scale is not None and f.value is not None) else math.nan,
                base_unit if scale is not None else "", qualifier, period, kind, is_rate, direction, f.placeholder,
                f.figure, clause if look is None else clause[s0:s1], a + s0, a + s1, sec_path,
            ))
            prev_end, prev_indicator = f.end, indicator
            # (not after a negative figure: its direction came from its sign, 增长-40.8%)
            prev_rate = (is_rate, direction) if is_rate and (f.value is None or f.value >= 0) else None
            if indicator:
                carried, carried_raw = indicator, False
    return rows


#: below this many characters of document text, :func:`extract_targets` runs in this process
PARALLEL_MIN_CHARS = 1_000_000


def _targets_chunk(docs: tuple[Any, Sequence[Any], Sequence[Any], Any, Any]) -> tuple[list[int], pd.DataFrame]:
    """Rows of documents given as ``(texts, doc_types, doc_ids, sections, offsets)``: the number of each one's rows,
    and a table of all.

    ``texts`` is what :func:`~plan_analysis.corpus.piece_texts` takes (a column of text, or a snapshot's rows):
    the Python strings are made here, in the worker, as are the spans of ``sections`` (their rows, or
    :func:`_section_spans` of them made already: see :func:`_piece_sections`). With ``offsets``
    (:class:`~plan_analysis.corpus.PieceOffsets`) the rows' raw spans are found here too (``raw_start``,
    ``raw_end``). The table is made here: it travels back
    as a few buffers, not as a tuple per row."""
    from .corpus import piece_texts, text_of
    from .lexicons import pinned_lexicons

    texts, types, ids, sections, offsets = docs
    spans_of = _section_spans(sections) if isinstance(sections, pd.DataFrame) else sections
    doc_spans = [spans_of.get(doc_id, []) for doc_id in ids]
    counts: list[int] = []
    rows: list[tuple[Any, ...]] = []
    with pinned_lexicons():  # one lexicon version for the chunk: per-figure lookups do not list the folder again
        for text, doc_type, spans in zip(piece_texts(texts), types, doc_spans):
            doc_rows = _doc_rows(text, text_of(doc_type), spans)
            counts.append(len(doc_rows))
            rows += doc_rows
    table = pd.DataFrame(rows, columns=_ROW_FIELDS)
    if offsets is not None and len(table):
        table["raw_start"], table["raw_end"] = offsets.raw_spans(
            np.repeat(np.arange(len(counts), dtype=np.int64), counts), table["_start"], table["_end"])
    return counts, table


def _warm_up() -> None:
    """Load what figures need on first use: the tokenizer and its verbs, cn2an, the indicator rules."""
    from .lexicons import lexicon_fingerprint

    _ends_with_verb("新建")
    _is_no_object("覆盖")  # the word sets of prepositions and verbs too: else each worker reads the dictionary
    _to_number("一")
    _indicator_rules(lexicon_fingerprint())


def _frame(ids: list[Any], files: list[Any], counts: list[int], rows: pd.DataFrame) -> pd.DataFrame:
    """The rows of documents ``ids`` (from ``files``), ``counts[i]`` rows each, with those two columns added."""
    rows.insert(0, "source_file", np.repeat(np.asarray(files, dtype=object), counts))
    rows.insert(0, "doc_id", np.repeat(np.asarray(ids, dtype=object), counts))
    return rows


def extract_targets(source: Any, *, include_placeholders: bool = True,
                    kind: Literal["all", "target", "actual"] = "all", workers: int | None = None,
                    progress: bool = False) -> pd.DataFrame:
    """Extract every figure from a corpus, a documents table, or plain text.

    ``source`` is a :class:`~plan_analysis.corpus.Corpus` (its sections give each figure a
    plan or summary context), a documents DataFrame (with ``doc_id`` and ``text``), a mapping
    name → text (:func:`~plan_analysis.corpus.texts_corpus`), or a
    string (cleaned first; offsets then index that string). Columns: :data:`TARGET_FIELDS`
    plus ``section`` (the heading path). Figures hidden by placeholders have no value and
    ``placeholder`` true; drop them with ``include_placeholders=False``. Documents are shared out
    over ``workers`` processes (default: the CPUs available) when there are more than
    :data:`PARALLEL_MIN_CHARS` characters of text; the result is the same. ``progress`` shows a bar of
    documents done. For more figures than memory holds, :func:`write_targets` writes the same table to a file.
    A clause of more than :data:`_CLAUSE_MAX` (200) characters (a flattened table, figure after figure with no
    break) is given in each of its rows as the part around the figure, with that part's raw offsets.

    >>> extract_targets("完成固定资产投资7.06亿元，同比增长xx%")[["figure", "kind", "placeholder"]].values.tolist()
    [['7.06亿元', 'actual', False], ['xx%', 'actual', True]]
    """
    parts = iter_targets(source, include_placeholders=include_placeholders, kind=kind, workers=workers,
                         progress=progress)
    return pd.concat(parts, ignore_index=True)


def write_targets(source: Any, path: str | os.PathLike, *, include_placeholders: bool = True,
                  kind: Literal["all", "target", "actual"] = "all", workers: int | None = None,
                  progress: bool = False) -> Path:
    """Write the table :func:`extract_targets` gives to a file, a piece of documents at a time.

    The file's suffix says the format: ``.parquet`` (or ``.pq``: Parquet, zstd; ``pandas.read_parquet(path)`` gives
    the same table), ``.csv`` (UTF-8, one header) or ``.jsonl`` (a JSON object per line), as the command line
    prints them (with the ``section`` column it leaves out). For corpora whose figures do not fit in memory (a
    province over a decade): only one piece's rows
    are held at a time. The file is written whole or not at all (a temporary file renamed into place). Options as
    for :func:`extract_targets`, checked with the path before any figure is sought. Returns the path written.

    >>> import pandas as pd, tempfile, os
    >>> f = write_targets({"甲镇": "完成固定资产投资7.06亿元，同比增长xx%"}, os.path.join(tempfile.mkdtemp(), "t.parquet"))
    >>> pd.read_parquet(f)[["figure", "placeholder"]].values.tolist()
    [['7.06亿元', False], ['xx%', True]]
    """
    import io

    from .corpus import _write_atomic, write_pieces

    out = Path(path)
    if out.is_dir():
        raise IsADirectoryError(f"{out} is a folder; give the path of a file in it, such as {out / 'targets.parquet'}")
    fmt = _FILE_FORMATS.get(out.suffix.lower())
    if fmt is None:
        raise ValueError(f"{out}: write_targets writes {', '.join(_FILE_FORMATS)} files; end the name with one of "
                         f"these (it has {repr(out.suffix) if out.suffix else 'no suffix'})")
    parts = iter_targets(source, include_placeholders=include_placeholders, kind=kind, workers=workers,
                         progress=progress)

    def write(fh: Any) -> None:
        if fmt != "parquet":
            text = io.TextIOWrapper(fh, encoding="utf-8", newline="")
            write_pieces(parts, fmt, text)
            text.flush()
            text.detach()
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        types = _arrow_types()
        schema = pa.schema([(c, types.get(c, pa.large_string())) for c in _COLUMNS])
        with pq.ParquetWriter(fh, schema, compression="zstd") as writer:
            for part in parts:
                writer.write_table(pa.Table.from_pandas(part, schema=schema, preserve_index=False))

    _write_atomic(out, write)
    return out


#: the formats :func:`write_targets` writes, by file suffix
_FILE_FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".jsonl": "jsonl"}


#: the columns of :func:`extract_targets`'s table
_COLUMNS = list(TARGET_FIELDS) + ["section"]
_DTYPES = {"value": "float64", "value_high": "float64", "base_value": "float64", "is_growth_rate": "bool",
           "placeholder": "bool"}


def _typed(df: pd.DataFrame) -> pd.DataFrame:
    return df.astype(_DTYPES)


def _arrow_types() -> dict[str, Any]:
    """The Arrow type of each column that is not text: those of :data:`_DTYPES`, and the raw offsets."""
    import pyarrow as pa

    types = {**_DTYPES, "raw_start": "int64", "raw_end": "int64"}
    return {c: pa.from_numpy_dtype(np.dtype(t)) for c, t in types.items()}


def iter_targets(source: Any, *, include_placeholders: bool = True, kind: Literal["all", "target", "actual"] = "all",
                 workers: int | None = None, progress: bool = False) -> Iterator[pd.DataFrame]:
    """Yield the table :func:`extract_targets` gives, a piece of documents at a time.

    Joined, the pieces are that table (same columns, types and row order); each is a few hundred documents'
    figures, so a caller can send them on (to a file, a database) without holding every figure at once. Where there
    is no figure at all, one empty piece comes (the table's columns, for a header).
    ``source`` and the options are as for :func:`extract_targets`, and are checked at the call, before any piece
    is made.

    >>> [len(part) for part in iter_targets({"甲镇": "完成投资7亿元，增长5%。", "乙镇": "新建2个村。"})]
    [3]
    """
    if kind not in ("all", "target", "actual"):
        raise ValueError(f"kind must be 'all', 'target' or 'actual', not {kind!r}")
    resolve_workers(workers)  # here, at the call: the pieces are made only when asked for
    kept = partial(_kept, include_placeholders=include_placeholders, kind=kind)
    if isinstance(source, str):
        return _one_at_least(_text_parts(source, kept=kept))
    from .corpus import documents_of

    docs, corpus = documents_of(source, what="extract_targets")
    return _one_at_least(_corpus_parts(docs, corpus, kept=kept, workers=workers, progress=progress))


def _one_at_least(parts: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """``parts``, or one empty table of the right columns and types when there is none."""
    empty = True
    for part in parts:
        empty = False
        yield part
    if empty:
        yield _typed(pd.DataFrame([], columns=_COLUMNS))


def _kept(df: pd.DataFrame, *, include_placeholders: bool, kind: str) -> pd.DataFrame:
    if not include_placeholders:
        df = df[~df["placeholder"].astype(bool)]
    if kind != "all":
        df = df[df["kind"] == kind]
    return df


def _text_parts(source: str, *, kept: Callable[[pd.DataFrame], pd.DataFrame]) -> Iterator[pd.DataFrame]:
    from .normalize import clean_text

    cleaned = clean_text(source)
    counts, rows = _targets_chunk((pd.Series([cleaned.text]), [""], ["text"], {}, None))
    if len(rows):
        df = _frame(["text"], [""], counts, rows)
        df["raw_start"], df["raw_end"] = cleaned.offsets.raw_spans(df["_start"], df["_end"])
        yield _typed(kept(df[_COLUMNS]))


def _corpus_parts(docs: pd.DataFrame, corpus: Any, *, kept: Callable[[pd.DataFrame], pd.DataFrame],
                  workers: int | None, progress: bool) -> Iterator[pd.DataFrame]:
    from .corpus import text_pieces
    from .parallel import map_chunks, plan_pieces, progress_bar

    sections = corpus.sections if corpus is not None else None
    sections_of = _piece_sections(sections, docs["doc_id"]) if sections is not None else lambda a, b: {}
    lengths, texts_of = text_pieces(docs, corpus)
    offsets_of = corpus._piece_offsets() if corpus is not None else lambda a, b: None
    # here too in pieces: rows become a table a piece at a time
    n, bounds = plan_pieces(lengths, workers=workers, parallel_min=PARALLEL_MIN_CHARS, serial_piece=500_000)
    if corpus is not None:
        corpus._drop_pages()  # what was read of whole columns above is not held while the figures pile up
    if n > 1:
        _warm_up()  # here, once: the forked workers share it instead of each loading its own

    def pieces():  # each piece's documents are read out only when the workers are ready for them
        for a, b in bounds:
            ids = docs["doc_id"].iloc[a:b].tolist()
            types = docs["doc_type"].iloc[a:b].tolist() if "doc_type" in docs else [""] * (b - a)
            yield texts_of(a, b), types, ids, sections_of(a, b), offsets_of(a, b)

    found = 0
    with progress_bar(len(docs), desc="targets", unit="doc", enabled=progress) as bar:
        for (a, b), (counts, rows) in zip(bounds, map_chunks(_targets_chunk, pieces(), workers=n)):
            found += len(rows)
            if bar is not None:
                bar.update(b - a)
                bar.set_postfix(figures=found, refresh=False)
            if not len(rows):
                continue
            ids = docs["doc_id"].iloc[a:b].tolist()
            files = docs["source_file"].iloc[a:b].tolist() if "source_file" in docs else [""] * (b - a)
            part = _frame(ids, files, counts, rows)
            del rows
            if corpus is None:  # a documents table: its texts are the raw ones
                part["raw_start"], part["raw_end"] = part["_start"], part["_end"]
            yield _typed(kept(part[_COLUMNS]))


def _require_targets(targets: Any, columns: Sequence[str], *, what: str) -> pd.DataFrame:
    """``targets``, checked to hold ``columns``, with its columns as :func:`extract_targets` gives them
    (:func:`_as_extracted`)."""
    from .corpus import require_columns

    require_columns(targets, columns, what=what, make="extract_targets(corpus)")
    return _as_extracted(targets, what=what)


#: the columns of a targets table that hold numbers, flags and text (by :data:`_DTYPES`; the raw offsets aside)
_NUMBER_COLUMNS = tuple(c for c, t in _DTYPES.items() if t == "float64")
_FLAG_COLUMNS = tuple(c for c, t in _DTYPES.items() if t == "bool")
_TEXT_COLUMNS = tuple(c for c in _COLUMNS if c not in _DTYPES and c not in ("raw_start", "raw_end"))
_BLANK_WORDS = ("", "nan", "<na>", "none")
_FLAG_WORDS = {"true": True, "false": False, "1": True, "0": False, "1.0": True, "0.0": False}


def _as_extracted(targets: pd.DataFrame, *, what: str) -> pd.DataFrame:
    """``targets`` as :func:`extract_targets` gives it, for a table read back from a file: empty text cells (NaN
    after ``pandas.read_csv``) as ``""``, numbers read as text (``keep_default_na=False``: ``""`` and ``"5.0"``) as
    numbers, flags read as text as flags. A table that needs none of this is returned as it is; a cell that is no
    number (or flag) where one belongs raises ValueError naming its column."""
    fixed: dict[str, pd.Series] = {}
    for c in targets.columns.intersection(_TEXT_COLUMNS):
        if targets[c].isna().any():
            fixed[c] = targets[c].astype(object).where(targets[c].notna(), "")
    for c in targets.columns.intersection(_NUMBER_COLUMNS):
        if not pd.api.types.is_numeric_dtype(targets[c]):
            fixed[c] = _as_numbers(targets[c], c, what=what)
    for c in targets.columns.intersection(_FLAG_COLUMNS):
        if not pd.api.types.is_bool_dtype(targets[c]):
            fixed[c] = _as_flags(targets[c], c, what=what)
    return targets.assign(**fixed) if fixed else targets


def _cell_words(col: pd.Series) -> pd.Series:
    """The cells of ``col`` as stripped, lower-case text (missing cells as ``""``)."""
    return col.astype("string").fillna("").str.strip().str.lower()


def _not_a(kind: str, col: pd.Series, bad: pd.Series, name: str, *, what: str) -> ValueError:
    i = bad.to_numpy().nonzero()[0][0]
    return ValueError(
        f"{what}: column {name!r} should hold {kind}s, but row {col.index[i]!r} holds {col.iloc[i]!r}; read a targets "
        f"table written to CSV with pandas.read_csv(path) (empty cells then read as missing), or write it with "
        f"write_targets(corpus, 'targets.parquet') and read it with pandas.read_parquet, which keep the column types")


def _as_numbers(col: pd.Series, name: str, *, what: str) -> pd.Series:
    """A column of numbers read as text (``""`` where there is none) as float numbers."""
    words = _cell_words(col)
    blank = words.isin(_BLANK_WORDS)
    numbers = pd.to_numeric(words.mask(blank), errors="coerce").astype("float64")
    bad = numbers.isna() & ~blank
    if bad.any():
        raise _not_a("number", col, bad, name, what=what)
    return numbers


def _as_flags(col: pd.Series, name: str, *, what: str) -> pd.Series:
    """A column of flags read as text (True/False) as booleans."""
    flags = _cell_words(col).map(_FLAG_WORDS)
    bad = flags.isna()
    if bad.any():
        raise _not_a("True or False flag", col, bad, name, what=what)
    return flags.astype(bool)


def count_hidden(targets: pd.DataFrame) -> pd.DataFrame:
    """Per document: figures found, figures hidden behind placeholders, and the hidden share.

    Columns: ``doc_id``, ``figures``, ``hidden``, ``hidden_share``. ``targets`` may be read back from a file
    (``pandas.read_csv``: its empty cells are read as ``""``, as in :func:`main_growth_targets`).

    >>> count_hidden(extract_targets("增速xx.xx%，完成投资3亿元，新建x个站点"))[["figures", "hidden"]].values.tolist()
    [[3, 2]]
    """
    targets = _require_targets(targets, ("doc_id", "placeholder"), what="count_hidden")
    g = targets.groupby("doc_id")["placeholder"]
    out = pd.DataFrame({"figures": g.size(), "hidden": g.sum().astype(int)}).reset_index()
    out["hidden_share"] = out["hidden"] / out["figures"]
    return out.sort_values("hidden_share", ascending=False).reset_index(drop=True)


def main_growth_targets(targets: pd.DataFrame, *, indicator: str = "地区生产总值") -> pd.DataFrame:
    """The annual growth target for ``indicator`` of each document: one row per document that has exactly one.

    Rows are ``kind == "target"`` growth rates of the canonical indicator with no period (so
    年均 five-year averages and 上半年 figures are left out). Columns as :data:`TARGET_FIELDS`. ``targets`` may be
    read back from a CSV file: empty text cells (NaN after ``pandas.read_csv``) are read as ``""``, and numbers read
    as text (``keep_default_na=False``) as numbers, here and in :func:`pair_targets` and :func:`count_hidden`.

    >>> t = extract_targets("今年主要预期目标是：地区生产总值增长5%左右。“十五五”时期地区生产总值年均增长5%。")
    >>> main_growth_targets(t)[["value", "qualifier"]].values.tolist()
    [[5.0, '左右']]
    """
    targets = _require_targets(targets, ("doc_id", "indicator_canonical", "kind", "is_growth_rate", "period",
                                         "placeholder", "value"), what="main_growth_targets")
    sel = targets[(targets["indicator_canonical"] == indicator) & (targets["kind"] == "target")
                  & targets["is_growth_rate"] & (targets["period"] == "") & ~targets["placeholder"]]
    counts = sel.groupby("doc_id")["value"].transform("size")
    return sel[counts == 1].reset_index(drop=True)


def pair_targets(targets: pd.DataFrame, *, by: str = "doc_id") -> pd.DataFrame:
    """Line up planned and reported figures of the same indicator for the same ``by`` group.

    Only canonical indicators with both a ``target`` and an ``actual`` row, both growth rates or
    both amounts in the same unit, are paired (the first of each). Columns: ``by`` value,
    ``indicator_canonical``, ``unit``, ``is_growth_rate``, ``target``, ``target_qualifier``,
    ``target_clause``, ``actual``, ``actual_clause``, ``difference`` (actual − target). ``targets`` may be read
    back from a file, as for :func:`main_growth_targets`.

    >>> t = extract_targets("一、2025年工作回顾\\n地区生产总值增长5.2%。\\n二、2026年工作安排\\n今年的主要预期目标是：地区生产总值增长5%左右。")
    >>> pair_targets(t)[["target", "actual", "difference"]].values.round(1).tolist()
    [[5.0, 5.2, 0.2]]
    """
    targets = _require_targets(targets, (by, "indicator_canonical", "unit", "is_growth_rate", "kind", "period",
                                         "placeholder", "value", "qualifier", "clause"), what="pair_targets")
    t = targets[(targets["indicator_canonical"] != "") & ~targets["placeholder"] & (targets["period"] != "年均")]
    keys = [by, "indicator_canonical", "unit", "is_growth_rate"]
    t = t.dropna(subset=keys)  # as a group-by would: a figure with no group is not paired
    # the first target and the first actual of each group, joined: whole-table operations (a pandas call per
    # group took minutes on ten thousand documents)
    tg = t[t["kind"] == "target"].drop_duplicates(keys)
    ac = t[t["kind"] == "actual"].drop_duplicates(keys)
    m = tg[keys + ["value", "qualifier", "clause"]].merge(ac[keys + ["value", "clause"]], on=keys,
                                                          suffixes=("_t", "_a"))
    m = m.sort_values(keys, kind="stable").reset_index(drop=True)
    cols = [by, "indicator_canonical", "unit", "is_growth_rate", "target", "target_qualifier", "target_clause",
            "actual", "actual_clause", "difference"]
    if m.empty:
        return pd.DataFrame(columns=cols)
    columns = {by: m[by], "indicator_canonical": m["indicator_canonical"], "unit": m["unit"],
               "is_growth_rate": m["is_growth_rate"].astype(bool), "target": m["value_t"],
               "target_qualifier": m["qualifier"], "target_clause": m["clause_t"], "actual": m["value_a"],
               "actual_clause": m["clause_a"], "difference": m["value_a"] - m["value_t"]}
    # each column's type inferred from its values, whatever the input's column types were
    return pd.DataFrame({c: v.tolist() for c, v in columns.items()}, columns=cols)
