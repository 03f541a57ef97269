"""Regular expressions and small character tables, kept in one place.

Word lists that users may want to edit (dating phrases, province clues, …) live in
``data/lexicons/`` instead; this module holds only the structural patterns of the text.
"""

from __future__ import annotations

import re
from typing import Any

# --- character classes -------------------------------------------------------------------
HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
CJK_PUNCT = r"\u3000-\u303f\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65\u2018-\u201f\u2026\u2014\u00b7"
HAN_RE = re.compile(f"[{HAN}]")


def code_points(text: str) -> Any:
    """The code points of ``text`` as a numpy ``uint32`` array: item ``i`` is ``ord(text[i])``, lone surrogates too.

    The one way the numpy passes over text (lexicon hints, theme hints, slogans, shingles) see it.

    >>> code_points("镇a").tolist()
    [38215, 97]
    """
    import numpy as np

    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")  # little-endian, as encoded

# --- furniture (removed, each with its kind) ---------------------------------------------
#: paywall and page markers of content mills: ##paidbegin##, ##paidend##, $$pagebreak$$ …
PAYWALL_RE = re.compile(r"##[A-Za-z_]{2,20}##|\$\$[A-Za-z_]{2,20}\$\$")
#: ad snippets such as ^【&更多素材搜索哒哒文库#】
AD_RE = re.compile(r"\^?【[&#@]?[^】\n]{0,40}?(?:素材|文库|搜索|下载|关注|公众号|更多)[^】\n]{0,40}】")
#: a whole line of mill preamble/outro ("…小编今天就为您带来了…")
MILL_LINE_RE = re.compile(
    r"^[^\n]{0,300}?(?:小编(?:今天)?(?:就)?为(?:您|大家|你)|为(?:您|大家)(?:精心)?(?:整理|带来|收集)了|"
    r"相信一定会对(?:你|您)有所帮助|希望(?:对|能)(?:你|您|大家)有所帮助|欢迎(?:阅读|借鉴|参考)[，。！,.!]"
    r"|仅供参考[，。！,.!]?$)[^\n]{0,300}(?:\n|$)",
    re.M,
)
#: trailing "…相关文章:" / "推荐阅读" lines
RELATED_LINE_RE = re.compile(r"^[^\n]{0,80}(?:相关文章|推荐阅读|相关推荐|延伸阅读|相关报道|相关链接|相关阅读)\s*[:：]?\s*(?:\n|$)", re.M)
#: a line of web-page controls (下载 / 打印 / 全屏 / 收藏 / 【字号：加大 还原 减小】 / 当前位置：…)
UI_LINE_RE = re.compile(
    r"^[ \t]*(?:下载|打印|全屏|收藏|分享\s*[:：]?|加大|还原|减小|【\s*字号\s*[:：]?|】|[【\[]?关闭窗口[】\]]?|返回顶部|打印本页|"
    r"关闭|首页|[>›»]|[大中小]|【\s*字体\s*[:：]?|字号\s*[:：]?\s*[大中小 ]*|字体\s*[:：]?\s*[大中小 ]*|(?:当前位置|您的位置|您现在的位置)\s*[:：][^\n]{0,80})[ \t]*(?:\n|$)",
    re.M,
)
#: government-site header fields (索引号, 发布机构, 成文日期 …) at the start of a line
SITE_FIELDS = ("索引号", "文号", "主题分类", "公开方式", "体裁分类", "发布机构", "成文日期",
               "发布日期", "生成日期", "信息来源", "发文机关", "有效性", "公开范围", "公开时限",
               "来源", "时间", "发布时间", "作者", "编辑", "责任编辑", "浏览次数", "点击数", "访问量")
SITE_HEADER_LINE_RE = re.compile(
    r"^[ \t\u3000]*(?:" + "|".join(f"{f[0]}\\s*" + "\\s*".join(f[1:]) for f in SITE_FIELDS)
    + r")\s*[:：][^\n]*(?:\n|$)",
    re.M,
)
#: a line holding only a publication date/time (2026-02-03 09:02:33, 2026年02月10日07时41分)
DATETIME_LINE_RE = re.compile(
    r"^[ \t]*(?:20[0-9]{2}-[0-9]{1,2}-[0-9]{1,2}(?:\s+[0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?)?|"
    r"20[0-9]{2}年[0-9]{1,2}月[0-9]{1,2}日(?:\s*[0-9]{1,2}[时:][0-9]{1,2}分?)?)[ \t]*(?:\n|$)",
    re.M,
)
SITE_FIELD_RE = re.compile(
    r"(" + "|".join(f"{f[0]}\\s*" + "\\s*".join(f[1:]) for f in SITE_FIELDS) + r")\s*[:：]\s*([^\s:：]*(?:\s(?![^\s:：]+\s*[:：])[^\s:：]+)*)"
)
#: anti-copy junk: a '.' or "'" between two Han characters (摆正自己的.位置, 赏心悦目的'视觉效果). The character
#: comes first and the look-behind after it, so the engine skips from one '.' or "'" to the next (a leading
#: look-behind had it try every place: 4× as long)
ANTICOPY_RE = re.compile(f"[.'](?<=[{HAN}][.'])(?=[{HAN}])")

# --- width policy --------------------------------------------------------------------------
#: full-width forms that become half-width everywhere: digits, Latin letters, %, +, =, /, @, #, &
FULL_TO_HALF = {chr(c): chr(c - 0xFEE0) for c in range(0xFF10, 0xFF1A)}  # ０-９
FULL_TO_HALF.update({chr(c): chr(c - 0xFEE0) for c in range(0xFF21, 0xFF3B)})  # Ａ-Ｚ
FULL_TO_HALF.update({chr(c): chr(c - 0xFEE0) for c in range(0xFF41, 0xFF5B)})  # ａ-ｚ
FULL_TO_HALF.update({"％": "%", "＋": "+", "＝": "=", "／": "/", "＠": "@", "＃": "#", "＆": "&"})
FULL_TO_HALF_RE = re.compile("[" + "".join(re.escape(c) for c in FULL_TO_HALF) + "]")
#: full-width full stop / hyphen between digits: １．５ → 1.5, ３－５ → 3-5
FULL_DIGIT_PUNCT_RE = re.compile(r"[．－](?<=[0-9０-９][．－])(?=[0-9０-９])")  # character first, as ANTICOPY_RE
#: half-width punctuation that becomes full-width inside Chinese text
HALF_TO_FULL = {",": "，", ";": "；", ":": "：", "!": "！", "?": "？"}
HALF_PUNCT_RE = re.compile(r"[,;:!?]")
PAREN_RE = re.compile(r"[()]")
#: the three digits after a thousands comma, some hidden (3,xxx and 1,2xx stay as written, as 15,749 does)
THOUSANDS_AFTER_RE = re.compile(r"[0-9x]{3}(?![0-9x])")
STRAIGHT_QUOTE_PAIR_RE = re.compile(r'"([^"\n]{0,200})"')
#: spaces of every odd kind (NBSP, ideographic, thin, zero-width …) and invisible controls
ODD_SPACE_RE = re.compile(r"[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\t]")
#: the spaces trimmed from line ends and squeezed inside lines
LINE_SPACES = " \t\u00a0\u3000\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u1680"
SPACE_RUN_RE = re.compile(f"[{LINE_SPACES}]+")
#: line ends other than CR: NEL and the Unicode line and paragraph separators (str.splitlines breaks there)
OTHER_LINE_END_RE = re.compile("[\u0085\u2028\u2029]")
INVISIBLE_RE = re.compile(r"[\u200b-\u200d\u2060\ufeff\u00ad\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

#: strings one of which every match of a cleaning pattern holds: a text holding none of them skips the pattern
#: (``str`` containment tests are much quicker than the engine trying a ``^`` pattern at every place; on the
#: benchmark corpus the mill-line pattern took 42 µs a file, its needles 17 µs). tests/test_normalize.py checks
#: each needle list against the pattern's required literals.
NEEDS: dict[re.Pattern[str], tuple[str, ...]] = {
    PAYWALL_RE: ("##", "$$"),
    AD_RE: ("【",),
    MILL_LINE_RE: ("小编", "整理了", "带来了", "收集了", "有所帮助", "欢迎", "仅供参考"),
    RELATED_LINE_RE: ("相关", "推荐阅读", "延伸阅读"),
    OTHER_LINE_END_RE: ("\u0085", "\u2028", "\u2029"),
}

# --- placeholders and redactions (marked, never read as numbers) ----------------------------
# Each pattern starts with a character class and checks what stands before it with a look-behind placed after
# that character: the regex engine then jumps from one candidate character to the next instead of trying every
# place (4–5× quicker on the benchmark corpus). tests/test_normalize.py checks them against the plain forms,
# e.g. formula = (?<![A-Za-z0-9])x\s*\+\s*x(?:\s*\+\s*[A-Za-zx])*(?![A-Za-z0-9]).
PLACEHOLDER_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("formula", re.compile(r"x(?<![A-Za-z0-9]x)\s*\+\s*x(?:\s*\+\s*[A-Za-zx])*(?![A-Za-z0-9])")),
    # 19xx / 20xx not inside a word, or xxxx before 年 / a dash
    ("year", re.compile(r"[12x](?:(?<=1)9xx(?<![A-Za-z0-9]19xx)(?![A-Za-z0-9])"
                        r"|(?<=2)0xx(?<![A-Za-z0-9]20xx)(?![A-Za-z0-9])"
                        r"|(?<=x)xxx(?<![A-Za-z0-9]xxxx)(?=\s*(?:年|—|-|－)))")),
    # digits then x's (2x, xx.xx), not inside a word or after a '.': the first character is a digit or an x
    ("number", re.compile(r"[0-9x](?<![A-Za-z0-9.][0-9x])(?:(?<=x)x*|(?<=[0-9])[0-9]*x+)"
                          r"(?:\.[x0-9]+)?(?![A-Za-z0-9])")),
    ("redaction", re.compile(r"[X*](?:(?<=X)(?<![A-Za-z0-9]X)X+(?![A-Za-z0-9])|(?<=\*)\*+)")),
    ("date", re.compile(r"\*(?=\s*[年月日])")),
    ("name", re.compile(r"[A-Z](?<![A-Za-z0-9][A-Z])(?=新时代|总书记|同志|书记[^处]|主席|省长|市长)")),
)
#: the digits and thousands commas before a number placeholder's x's, as far as they belong to it (the *3,* of
#: 3,xxx; that of 2xx the pattern takes itself); searched with the placeholder's start as end
PLACEHOLDER_THOUSANDS_BEFORE_RE = re.compile(r"(?<![A-Za-z0-9.,])(?:[0-9]{1,3},)+$")
#: a unit after a 20xx that makes it a hidden amount, not a year: 20xx万元, 20xx多份, 20xx亩 (20xx年 stays a year)
PLACEHOLDER_AMOUNT_AFTER_RE = re.compile(
    r"\s*(?:余|多)?\s*(?:[万亿千百元亩份个人户家名位项件次吨米台辆套座所间张株棵头只批条处场宗起例%‰]|平方|公[里顷])")
#: characters one of which every placeholder of a kind contains: a text without them skips the pattern
PLACEHOLDER_NEEDS = {"formula": "x", "year": "x", "number": "x", "redaction": "X*", "date": "*",
                     "name": "ABCDEFGHIJKLMNOPQRSTUVWXYZ"}

# --- jieba's own block and skip patterns (jieba.re_han_default / re_skip_default, 0.42.1) -----
#: the characters of jieba's blocks of words (its ``re_han_default``), as ranges of code points
JIEBA_BLOCK_RANGES = (("\u4e00", "\u9fd5"), ("a", "z"), ("A", "Z"), ("0", "9"), ("+", "+"), ("#", "#"), ("&", "&"),
                      (".", "."), ("_", "_"), ("%", "%"), ("-", "-"))
JIEBA_BLOCK_RE = re.compile("([" + "".join(re.escape(a) if a == b else f"{re.escape(a)}-{re.escape(b)}"
                                           for a, b in JIEBA_BLOCK_RANGES) + "]+)")
JIEBA_SKIP_RE = re.compile("(\r\n|\\s)")
#: a letter or digit jieba joins to the next when it cuts without the HMM (its ``re_eng``)
JIEBA_ENG_RE = re.compile("[a-zA-Z0-9]")

# --- structure -----------------------------------------------------------------------------
CN_NUM = "一二三四五六七八九十百零〇两"
CIRCLED = "⑴⑵⑶⑷⑸⑹⑺⑻⑼⑽⑾⑿⒀⒁⒂⒃⒄⒅⒆⒇"
CIRCLED2 = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
#: heading markers by level: (level, name, regex on the start of a line)
HEADING_MARKERS: tuple[tuple[int, str, re.Pattern[str]], ...] = (
    (1, "一、", re.compile(f"^([{CN_NUM}]{{1,3}})\\s*[、.．]")),
    (2, "（一）", re.compile(f"^[（(]\\s*([{CN_NUM}]{{1,3}})\\s*[）)]\\s*[、.．]?")),
    (3, "1、", re.compile(r"^([0-9]{1,2})\s*(?:[、．]|\.(?![0-9]))")),
    (4, "（1）", re.compile(f"^(?:[（(]\\s*([0-9]{{1,2}})\\s*[）)]|([{CIRCLED}]))\\s*[、.．]?")),
    (5, "①", re.compile(f"^([{CIRCLED2}])\\s*[、.．]?")),
    (6, "一是", re.compile(f"^([{CN_NUM}]{{1,3}})(?:是|要)(?![的])")),
)
#: the characters a heading line can start with: the first character of every HEADING_MARKERS pattern (a line
#: starting with any other is no heading, without trying the six patterns)
HEADING_FIRST = frozenset(CN_NUM + "（(0123456789" + CIRCLED + CIRCLED2)
#: where a heading's title ends: at the first of these within 60 characters (一是 headings also stop at '，')
HEADING_TITLE_END_RE = re.compile(r"[。！？：:；]")
HEADING_TITLE_END_6_RE = re.compile(r"[。！？：:；，]")
#: a compilation piece marker line such as 政府2024年工作计划2024年工作计划篇1
PIECE_MARKER_RE = re.compile(r"^[^\n。；，]{0,60}?篇\s*([0-9]{1,2}|[一二三四五六七八九十]{1,3})\s*$", re.M)
#: a compilation title line such as 2024年工作思路汇编（2篇）
COMPILATION_TITLE_RE = re.compile(r"^[^\n。；]{0,60}(?:汇编|合集|精选|范文)[^\n。；]{0,10}(?:[（(]\s*[0-9一二三四五六七八九十]+\s*篇\s*[）)])?\s*$|^[^\n。；]{0,60}[0-9一二三四五六七八九十]+篇\s*$", re.M)
#: an annex line (附件1, 附录): its numbering restarts inside the same document
ANNEX_RE = re.compile(r"^\s*(?:附件|附录|附表)\s*[0-9一二三四五六七八九十]*\s*[:：]?\s*$")
TOC_HEAD_RE = re.compile(r"^\s*目\s*录\s*$", re.M)
TOC_ENTRY_RE = re.compile(r"^\s*(?:[0-9]{1,2}\s*[.、．]|[（(]?[一二三四五六七八九十]+[）)、.]?)\s*(\S[^\n]{0,60}?)\s*(?:\.{2,}\s*\d+)?\s*$")
#: words that make a short line a document title
TITLE_WORDS_RE = re.compile(r"(?:工作|年度|年)?(?:计划|总结|思路|要点|报告|安排|打算|汇报|规划|方案|小结)")
SENTENCE_END_RE = re.compile(r"[。！？!?](?:[”’」』）)]*)|\n")
