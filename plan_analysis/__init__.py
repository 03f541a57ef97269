"""plan-analysis: clean, traceable data from Chinese local-government work plans and summaries.

The flow runs one way: raw file → :func:`read_texts` (decode, load report) → :func:`clean_text`
(edits + offset map) → :func:`split_documents` → heading tree and sentences →
:func:`label_document` (place, level, province, type, dated evidence), assembled by
:func:`load_corpus` into tidy tables whose every span maps back to the raw file.

>>> import plan_analysis as pa
>>> pa.clean_text("过去一年,前江街道完成９０％").text
'过去一年，前江街道完成90%'
"""

from .corpus import Corpus, load_corpus, process_text, texts_corpus
from .fonts import find_cjk_font, missing_glyphs, use_cjk_font
from .load import decode_bytes, read_raw, read_texts
from .meta import classify_doc_type, estimate_years, find_place, find_province, label_document
from .normalize import clean_text, edits_frame, find_placeholders
from .split import find_headings, parse_heading, split_documents, split_sentences

__version__ = "0.1.0"

__all__ = [
    "Corpus", "load_corpus", "process_text", "texts_corpus",
    "read_texts", "read_raw", "decode_bytes",
    "clean_text", "find_placeholders", "edits_frame",
    "split_documents", "find_headings", "parse_heading", "split_sentences",
    "label_document", "estimate_years", "find_place", "find_province", "classify_doc_type",
    "use_cjk_font", "find_cjk_font", "missing_glyphs",
]
