"""How alike two requests read: TF-IDF cosine over character n-grams (scikit-learn).

Chinese has no spaces and citizens paraphrase, so words are not the unit: overlapping
character 1-2-grams catch "夜间施工噪音扰民" against "晚上工地施工太吵". The inverse
document frequencies are those of the pool the query is compared with (the area's recent
orders): what every order of a street says (its name, "反映", "投诉") weighs little there.

The recorded content is already masked (domain/pii.py): masks and digits carry nothing
about the matter and are dropped before scoring.

One rule on top of the cosine: two requests that each name a place (an estate, a road:
"幸福里小区", "新河路") the other does not name are about two places, however alike the rest
reads ("X小区电梯坏了" against "Y小区电梯坏了", "X小区小吃街的面馆" against "Y小区小吃街的面馆"):
they score 0. On the labelled corpus's train split this rule lifts F1 from 0.30 to 0.62
(python -m tools.bench duplicates); naming estates ending in 湾, not taking 一段路 for a road,
counting a place named by both only when neither names another, and dropping the callers'
greetings and sign-offs (侬好, 我跟你讲, 侬晓得伐, 请回电话 ...) lift train precision from 0.47
to 0.97 at recall 0.96 (threshold 0.22, chosen on the train split again).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

NGRAMS = (1, 2)  # chosen on the train split: (1,2) F1 0.62, (1,3) 0.61, (2,3) 0.58
# Kept: CJK ideographs and Latin letters. Dropped: digits and masks (138****0000 is the
# caller, not the matter), punctuation, spaces.
_NOISE = re.compile(r"[^\u4e00-\u9fffA-Za-z]+")
# Fillers and call-centre boilerplate that say nothing about the matter.
_FILLERS = re.compile("市民来电反映|市民来电|来电反映|来电人|我想反映一下|我想反映|反映一下|"
                      "我要投诉|投诉一下|就是说|那个|然后|希望尽快处理|请尽快处理|麻烦你们|管一管|"
                      "我要反映个事情|反映|你好|侬好|我跟你讲|阿拉这里|侬晓得伐|实在受不了了|"
                      "请回电话|谢谢")


# A place name: two characters before an address suffix (小区, 花园, 新村, 苑, 路, 街, 弄...);
# 路口/路上/街边 are not names. Overlapping matches: "幸福里小区" yields "福里小区".
_PLACE = re.compile(r"(?=([\u4e00-\u9fff]{2}(?:小区|花园|家园|新村|苑|湾|大厦|广场|公寓|"
                    r"(?:路|街|弄)(?![口上边面]))))")


def normalise(text: str) -> str:
    """The part of a request's text that says what the matter is."""
    return _NOISE.sub("", _FILLERS.sub("", text)).lower()


# Words ending like a road that name none: 道路, 马路, 公路, 一段路, 这条街...
_NOT_PLACES = ("道路", "马路", "公路", "铁路", "线路", "走路", "出路", "一路", "小路", "大街",
               "段路", "条路", "段街", "条街")


def place_names(text: str) -> set[str]:
    """The place names `text` mentions (see _PLACE)."""
    return {name for name in _PLACE.findall(normalise(text)) if not name.endswith(_NOT_PLACES)}


def _vectors(texts: Sequence[str]) -> Any:
    """L2-normalised TF-IDF rows of `texts` (None when nothing is left to compare)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=NGRAMS, sublinear_tf=True)
    try:
        return vectorizer.fit_transform([normalise(t) for t in texts])
    except ValueError:  # every text empty after normalising
        return None


def _placed(score: float, ours: set[str], theirs: set[str]) -> float:
    """0 when each text names a place the other does not (two places), else the cosine."""
    return 0.0 if ours - theirs and theirs - ours else round(float(score), 4)


FULL_PRODUCT_MAX = 3000  # texts up to which all cosines are one product (72 MB at most)


class SimilarityRows(Sequence[list[float]]):
    """Every text's similarity to every other (as `similarity_scores`), one fit for all;
    a row is computed when first asked for. The 群诉预警 detector follows links from the
    new order (domain/duplicates/clusters.linked) and reads only the rows of the orders it
    reaches: an order unlike the area's others costs one row, not the area's square (500
    orders: 250,000 scores in Python for each intake before)."""

    def __init__(self, texts: Sequence[str]) -> None:
        self._size = len(texts)
        self._matrix = _vectors(texts) if texts else None
        self._places = [place_names(t) for t in texts] if self._matrix is not None else []
        self._rows: dict[int, list[float]] = {}
        self._products: Any = None  # every row's cosines, once more than one row is read

    def __len__(self) -> int:
        return self._size

    def __getitem__(self, index: int) -> list[float]:  # type: ignore[override]
        if not isinstance(index, int):
            raise TypeError("SimilarityRows takes one row index")
        i = index + self._size if index < 0 else index
        if not 0 <= i < self._size:
            raise IndexError(index)
        row = self._rows.get(i)
        if row is None:
            row = self._rows[i] = self._row(i)
        return row

    def _row(self, i: int) -> list[float]:
        if self._matrix is None:
            return [0.0] * self._size
        # Rows are L2-normalised: their product is the cosine (as linear_kernel, without its
        # input checks, which cost more than the product here). The first row alone (an
        # order like no other needs no more); from the second, every row in one product.
        if self._products is None and (self._rows or self._size == 1) \
                and self._size <= FULL_PRODUCT_MAX:
            self._products = (self._matrix @ self._matrix.T).toarray()
        if self._products is not None:
            cosines = self._products[i]
        else:
            cosines = (self._matrix[i] @ self._matrix.T).toarray().ravel()
        row: list[float] = cosines.round(4).tolist()
        ours = self._places[i]
        if ours:  # only texts that name places can be two places (see _placed)
            for j, theirs in enumerate(self._places):
                if theirs and ours - theirs and theirs - ours:
                    row[j] = 0.0
        row[i] = 1.0
        return row


def similarity_matrix(texts: Sequence[str]) -> SimilarityRows:
    """Every text's similarity to every other (rows computed when read)."""
    return SimilarityRows(texts)


def similarity_scores(query: str, pool: Sequence[str]) -> list[float]:
    """Similarity of `query` to each text of `pool` (0..1), in pool order: the cosine, or 0
    for two texts each naming a place the other does not."""
    if not pool:
        return []
    from sklearn.metrics.pairwise import linear_kernel

    matrix = _vectors([query, *pool])
    if matrix is None or not normalise(query):
        return [0.0] * len(pool)
    # Rows are L2-normalised: the linear kernel is the cosine.
    cosines = linear_kernel(matrix[0:1], matrix[1:]).ravel()
    places = place_names(query)
    return [_placed(cosine, places, place_names(text))
            for text, cosine in zip(pool, cosines, strict=True)]
