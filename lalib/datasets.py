"""Small offline data sets for the chapters, all generated from a seeded ``rng``.

Nothing here downloads anything: every data set is made on the spot from a
known latent structure, so that a chapter can measure what a method recovered.
"""

from __future__ import annotations

from dataclasses import dataclass as _dataclass

import numpy as np

from ._validate import check_positive_float as _check_positive_float
from ._validate import check_positive_int, check_rng

__all__: list[str] = []

# --- chapter 1: embeddings ---


# Each content word is a point of a grid of two latent attributes; each attribute
# value has its own "cue" words that appear near the words that carry it.
_CH1_GENDER_CUES = {"male": ("he", "him", "his", "himself"),
                    "female": ("she", "her", "hers", "herself")}
_CH1_ROLES = {  # role: ((male word, female word), cues)
    "monarch": (("king", "queen"), ("crown", "throne", "reign", "realm")),
    "heir": (("prince", "princess"), ("heir", "castle", "royal", "coronation")),
    "adult": (("man", "woman"), ("work", "street", "job", "town")),
    "child": (("boy", "girl"), ("play", "toy", "school", "ball")),
    "parent": (("father", "mother"), ("family", "home", "raise", "care")),
    "offspring": (("son", "daughter"), ("born", "inherit", "eldest", "youngest")),
    "sibling": (("brother", "sister"), ("twin", "older", "younger", "share")),
    "spouse": (("husband", "wife"), ("married", "wedding", "ring", "vows")),
    "grandparent": (("grandfather", "grandmother"), ("grandchild", "old", "wise", "stories")),
    "auncle": (("uncle", "aunt"), ("relatives", "cousin", "holiday", "gift")),
    "noble": (("duke", "duchess"), ("estate", "manor", "noble", "title")),
    "religious": (("monk", "nun"), ("abbey", "prayer", "cloister", "vow")),
    "performer": (("actor", "actress"), ("stage", "film", "role", "theatre")),
    "server": (("waiter", "waitress"), ("restaurant", "table", "order", "tip")),
}
_CH1_KIND_CUES = {"country": ("nation", "border", "government", "flag"),
                  "capital": ("city", "metro", "downtown", "mayor"),
                  "language": ("speak", "language", "accent", "spoken")}
_CH1_COUNTRIES = {  # country: (capital, language/adjective, cues)
    "france": ("paris", "french", ("wine", "cheese", "seine")),
    "italy": ("rome", "italian", ("pasta", "tiber", "venice")),
    "spain": ("madrid", "spanish", ("flamenco", "tapas", "andalusia")),
    "germany": ("berlin", "german", ("beer", "rhine", "bavaria")),
    "japan": ("tokyo", "japanese", ("sushi", "samurai", "kimono")),
    "china": ("beijing", "chinese", ("dragon", "yangtze", "tea")),
    "russia": ("moscow", "russian", ("vodka", "volga", "siberia")),
    "egypt": ("cairo", "egyptian", ("nile", "pyramid", "pharaoh")),
    "greece": ("athens", "greek", ("olive", "aegean", "olympus")),
    "portugal": ("lisbon", "portuguese", ("fado", "douro", "porto")),
    "poland": ("warsaw", "polish", ("vistula", "pierogi", "krakow")),
    "kenya": ("nairobi", "kenyan", ("safari", "savanna", "maasai")),
    "india": ("delhi", "indian", ("curry", "ganges", "monsoon")),
    "brazil": ("brasilia", "brazilian", ("samba", "amazon", "carnival")),
}
_CH1_TENSE_CUES = {"present": ("often", "always", "usually", "every"),
                   "past": ("yesterday", "ago", "once", "last"),
                   "progressive": ("now", "currently", "still", "busy")}
_CH1_VERBS = {  # lemma: cues  (regular verbs: lemma, lemma+ed, lemma+ing)
    "walk": ("path", "steps", "feet"), "talk": ("words", "voice", "chat"),
    "jump": ("high", "fence", "leap"), "cook": ("kitchen", "meal", "oven"),
    "clean": ("dust", "mop", "soap"), "paint": ("brush", "canvas", "colour"),
    "visit": ("guest", "trip", "friends"), "open": ("door", "window", "lid"),
    "call": ("phone", "number", "dial"), "help": ("aid", "support", "neighbour"),
    "watch": ("screen", "show", "tv"), "climb": ("mountain", "ladder", "rope"),
    "listen": ("music", "ears", "radio"), "kick": ("goal", "shin", "penalty"),
}
_CH1_FUNCTION_WORDS = ("the", "a", "of", "and", "to", "in", "was", "is", "with", "on",
                       "at", "for", "that", "it", "by")
_CH1_SYLLABLES = ("ka", "lo", "mi", "ru", "ten", "bor", "sa", "vel", "qui", "dra",
                  "no", "zu", "fen", "ti", "gar", "plo", "mek", "ja", "sor", "wi")


def _ch1_lexicon():
    """Content words, their two attributes, cue words per attribute, analogy grids."""
    words, attrs, group = [], [], []
    cues = dict(_CH1_GENDER_CUES)
    grids = {}  # group -> 2-D array of words indexed (first attribute, second attribute)
    people = []
    for role, ((m, f), role_cues) in _CH1_ROLES.items():
        cues[role] = role_cues
        for g, w in (("male", m), ("female", f)):
            words.append(w), attrs.append((g, role)), group.append("people")
        people.append((m, f))
    grids["people"] = np.array(people, dtype=object).T  # (gender, role)
    cues.update(_CH1_KIND_CUES)
    places = []
    for country, (capital, lang, country_cues) in _CH1_COUNTRIES.items():
        cues[country] = country_cues
        for kind, w in (("country", country), ("capital", capital), ("language", lang)):
            words.append(w), attrs.append((kind, country)), group.append("places")
        places.append((country, capital, lang))
    grids["places"] = np.array(places, dtype=object).T  # (kind, country)
    cues.update(_CH1_TENSE_CUES)
    verbs = []
    for lemma, lemma_cues in _CH1_VERBS.items():
        cues[lemma] = lemma_cues
        forms = (lemma, lemma + "ed", lemma + "ing")
        for tense, w in zip(("present", "past", "progressive"), forms):
            words.append(w), attrs.append((tense, lemma)), group.append("verbs")
        verbs.append(forms)
    grids["verbs"] = np.array(verbs, dtype=object).T  # (tense, lemma)
    return words, attrs, group, cues, grids


def _ch1_analogies(grids):
    """All questions a : b :: c : d on each grid, both ways round."""
    out = []
    for name, G in grids.items():
        nx, ny = G.shape
        for x1 in range(nx):
            for x2 in range(nx):
                for y1 in range(ny):
                    for y2 in range(ny):
                        if x1 != x2 and y1 != y2:
                            out.append((G[x1, y1], G[x2, y1], G[x1, y2], G[x2, y2], name))
    return out


def _ch1_pseudowords(n, rng):
    """``n`` distinct made-up words (2–3 syllables) that are not real words of the lexicon."""
    taken = set(_CH1_FUNCTION_WORDS)
    out = []
    while len(out) < n:
        k = rng.integers(2, 4)
        w = "".join(rng.choice(_CH1_SYLLABLES, size=k))
        if w not in taken:
            taken.add(w)
            out.append(w)
    return out


@_dataclass
class Corpus:
    """A synthetic corpus with a known latent structure (chapter 1).

    Attributes
    ----------
    tokens : list of str
        The text, ``n_sentences * sentence_length`` tokens.
    sentence_length : int
    words : list of str
        The content words (people, places, verbs).
    attributes : dict
        word → its two latent attributes, e.g. ``"queen": ("female", "monarch")``.
    group : dict
        word → ``"people"``, ``"places"`` or ``"verbs"``.
    cues : dict
        attribute → the cue words that appear near words carrying it.
    analogies : list of (a, b, c, d, group)
        Every question ``a : b :: c : d`` true by construction.
    function_words : tuple of str
        The function words (*the, of, and*, …) that fill sentences regardless of content.
    """

    tokens: list
    sentence_length: int
    words: list
    attributes: dict
    group: dict
    cues: dict
    analogies: list
    function_words: tuple = ()

    def sentences(self, n=5):
        """The first ``n`` sentences as strings."""
        L = self.sentence_length
        return [" ".join(self.tokens[i * L:(i + 1) * L]) for i in range(n)]

    def __repr__(self):
        return (f"Corpus({len(self.tokens)} tokens, {len(self.words)} content words, "
                f"{len(self.analogies)} analogy questions)")


def synthetic_corpus(n_tokens: int = 100_000, rng=None, *, sentence_length: int = 8,
                     p_function: float = 0.35, p_rare: float = 0.05, n_rare: int = 400,
                     zipf: float = 1.0) -> Corpus:
    """A seeded corpus in which analogies hold by construction (chapter 1).

    Every content word ``w`` has two latent attributes — (gender, role) for
    people, (kind, country) for places, (tense, lemma) for verbs — and each
    attribute value owns a few cue words (``he/his`` for male, ``crown/throne``
    for monarch, ``yesterday/ago`` for the past tense, ...). A sentence holds one
    content word, drawn with Zipf frequencies, among ``sentence_length − 1``
    other tokens: a function word (probability ``p_function``), a rare made-up
    word (``p_rare``; most fall below a vocabulary's ``min_count``), or else a
    cue of one of the word's two attributes, chosen uniformly.

    Then ``P(cue | w)`` is a sum of one block per attribute, so the PMI rows of
    *king − man + woman* and *queen* agree on every cue: the structure a method
    should recover is known exactly, and ``analogies`` lists it.

    Parameters
    ----------
    n_tokens : int
        Approximate size (rounded up to whole sentences), from ~1,000 to 10⁶+.
    rng : numpy.random.Generator, optional
    sentence_length : int >= 2
    p_function, p_rare : float, with p_function + p_rare < 1
    n_rare : int >= 1
        Number of distinct rare words.
    zipf : float > 0
        Exponent of the word frequencies ``∝ 1 / rank^zipf``.

    Returns
    -------
    Corpus

    Examples
    --------
    >>> corpus = synthetic_corpus(2000, np.random.default_rng(0))
    >>> len(corpus.tokens), corpus.analogies[0]
    (2000, ('king', 'queen', 'prince', 'princess', 'people'))
    """
    n_tokens = check_positive_int(n_tokens, "n_tokens")
    rng = check_rng(rng)
    L = check_positive_int(sentence_length, "sentence_length")
    if L < 2:
        raise ValueError(f"sentence_length must be >= 2 (a content word and a context); got {L}")
    n_rare = check_positive_int(n_rare, "n_rare")
    for name, p in (("p_function", p_function), ("p_rare", p_rare)):
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p < 1:
            raise ValueError(f"{name} must lie in [0, 1); got {p!r}")
    if p_function + p_rare >= 1:
        raise ValueError(f"p_function + p_rare must be < 1 (room for cue words); got {p_function + p_rare}")
    if isinstance(zipf, bool) or not isinstance(zipf, (int, float)) or not zipf > 0:
        raise ValueError(f"zipf must be a positive number; got {zipf!r}")

    words, attrs, group, cues, grids = _ch1_lexicon()
    rare = _ch1_pseudowords(n_rare, rng)
    # One token table: content words, then cues (attribute by attribute), function words, rare words.
    attr_names = list(cues)
    cue_words = [c for a in attr_names for c in cues[a]]
    table = np.array(words + cue_words + list(_CH1_FUNCTION_WORDS) + rare, dtype=object)
    n_words, n_fun = len(words), len(_CH1_FUNCTION_WORDS)
    cue_size = np.array([len(cues[a]) for a in attr_names])
    cue_start = n_words + np.concatenate([[0], np.cumsum(cue_size)[:-1]])
    attr_id = {a: i for i, a in enumerate(attr_names)}
    word_attrs = np.array([[attr_id[a] for a in pair] for pair in attrs])  # (n_words, 2)
    fun_start = n_words + cue_size.sum()
    rare_start = fun_start + n_fun

    def zipf_p(n):
        p = 1.0 / np.arange(1, n + 1) ** zipf
        return p / p.sum()

    n_sent = -(-n_tokens // L)
    word_p = zipf_p(n_words)[rng.permutation(n_words)]  # which word is frequent: random, seeded
    centre = rng.choice(n_words, size=n_sent, p=word_p)
    kind = rng.random((n_sent, L - 1))
    # cue: one of the centre word's two attributes, then one of that attribute's cues
    a = word_attrs[centre][np.arange(n_sent)[:, None], rng.integers(0, 2, (n_sent, L - 1))]
    cue = cue_start[a] + (rng.random((n_sent, L - 1)) * cue_size[a]).astype(np.int64)
    fun = fun_start + rng.choice(n_fun, size=(n_sent, L - 1), p=zipf_p(n_fun))
    rar = rare_start + rng.choice(n_rare, size=(n_sent, L - 1), p=zipf_p(n_rare))
    others = np.where(kind < p_function, fun, np.where(kind < p_function + p_rare, rar, cue))
    # put the content word at a random place in its sentence
    pos = rng.integers(0, L, n_sent)
    sent = np.empty((n_sent, L), dtype=np.int64)
    mask = np.arange(L)[None, :] == pos[:, None]
    sent[mask] = centre
    sent[~mask] = others.ravel()
    tokens = table[sent.ravel()[:n_tokens]].tolist()
    return Corpus(tokens=tokens, sentence_length=L, words=words,
                  attributes=dict(zip(words, attrs)), group=dict(zip(words, group)),
                  cues=cues, analogies=_ch1_analogies(grids), function_words=tuple(_CH1_FUNCTION_WORDS))


# --- chapter 2: MLPs and backpropagation ---


def two_moons(n_per_class=100, noise=0.1, rng=None):
    """Two interleaving half circles in the plane, one per class.

    Class 0 lies on ``(cos t, sin t)`` and class 1 on ``(1 − cos t, 0.5 − sin t)``
    for ``t`` uniform in ``[0, π]``; Gaussian noise of standard deviation
    ``noise`` is added to both coordinates. No line separates the classes;
    one hidden layer does. The chapter 2 notebook trains on :func:`spirals`
    instead; this set is a second, easier 2-D problem for the tests and for
    a reader's own experiments with the chapter 2 kernels.

    Parameters
    ----------
    n_per_class : int >= 1
    noise : float >= 0
    rng : numpy.random.Generator or None

    Returns
    -------
    X : (2 n_per_class, 2) float64
    y : (2 n_per_class,) int64, labels 0 and 1

    Examples
    --------
    >>> X, y = two_moons(50, rng=np.random.default_rng(0))
    >>> X.shape, np.bincount(y).tolist()
    ((100, 2), [50, 50])
    """
    n = check_positive_int(n_per_class, "n_per_class")
    noise = _check_positive_float(noise, "noise", allow_zero=True)
    rng = check_rng(rng)
    t = rng.uniform(0, np.pi, size=(2, n))
    upper = np.column_stack([np.cos(t[0]), np.sin(t[0])])
    lower = np.column_stack([1 - np.cos(t[1]), 0.5 - np.sin(t[1])])
    X = np.vstack([upper, lower]) + noise * rng.standard_normal((2 * n, 2))
    y = np.repeat(np.arange(2), n)
    return X, y


def spirals(n_per_class=100, n_classes=3, noise=0.2, turns=0.75, rng=None):
    """``n_classes`` interleaved spiral arms in the plane, one per class.

    Point ``i`` of arm ``c`` sits at radius ``r_i`` (evenly spaced in
    ``[0.05, 1]``) and angle ``θ = 2π (c / n_classes + turns · r_i) + noise · ε``
    with ``ε ~ N(0, 1)``: every arm winds ``turns`` times around the origin, and
    the arms are rotated copies of each other. The noise moves the angle only,
    so every point keeps its radius ``r_i <= 1``. Chapter 2.

    Parameters
    ----------
    n_per_class : int >= 1
    n_classes : int >= 2
    noise : float >= 0, standard deviation of the angle noise (radians)
    turns : float > 0
    rng : numpy.random.Generator or None

    Returns
    -------
    X : (n_classes · n_per_class, 2) float64, inside the closed unit disc (``‖x‖ = r_i``
        exactly, whatever the noise)
    y : (n_classes · n_per_class,) int64, labels ``0 .. n_classes-1``

    Examples
    --------
    >>> X, y = spirals(10, n_classes=4, rng=np.random.default_rng(0))
    >>> X.shape, np.bincount(y).tolist()
    ((40, 2), [10, 10, 10, 10])
    """
    n = check_positive_int(n_per_class, "n_per_class")
    k = check_positive_int(n_classes, "n_classes")
    if k < 2:
        raise ValueError(f"n_classes must be at least 2; got {k}")
    noise = _check_positive_float(noise, "noise", allow_zero=True)
    turns = _check_positive_float(turns, "turns")
    rng = check_rng(rng)
    r = np.tile(np.linspace(0.05, 1.0, n), k)
    c = np.repeat(np.arange(k), n)
    theta = 2 * np.pi * (c / k + turns * r) + noise * rng.standard_normal(k * n)
    X = np.column_stack([r * np.cos(theta), r * np.sin(theta)])
    return X, c.astype(np.int64)


# --- chapter 3: attention and transformers ---

def reversal_task(n_samples=2000, seq_len=8, vocab_size=10, rng=None):
    """Random token sequences and their reversals: a task whose right attention map is known.

    Output position ``i`` must copy input token ``n − 1 − i``; a model that
    solves it with one attention layer must put its weight on the
    anti-diagonal of the ``n × n`` attention matrix — a pattern that depends
    only on positions, never on the tokens. Chapter 3.

    Parameters
    ----------
    n_samples, seq_len, vocab_size : int
    rng : numpy.random.Generator, optional

    Returns
    -------
    tokens : (n_samples, seq_len) int64, uniform in ``[0, vocab_size)``
    targets : (n_samples, seq_len) int64, ``tokens[:, ::-1]``

    Examples
    --------
    >>> tokens, targets = reversal_task(2, 4, 5, rng=np.random.default_rng(0))
    >>> bool((targets == tokens[:, ::-1]).all())
    True
    """
    n_samples = check_positive_int(n_samples, "n_samples")
    seq_len = check_positive_int(seq_len, "seq_len")
    vocab_size = check_positive_int(vocab_size, "vocab_size")
    rng = check_rng(rng)
    tokens = rng.integers(0, vocab_size, size=(n_samples, seq_len))
    return tokens, tokens[:, ::-1].copy()


# --- chapter 4: low-rank methods ---

def grace_hopper(downsample: int = 1) -> np.ndarray:
    """The portrait of Grace Hopper that ships with matplotlib, as a grey-scale matrix in [0, 1].

    Read from matplotlib's own package data
    (``matplotlib.cbook.get_sample_data("grace_hopper.jpg")``), so nothing is
    downloaded. Grey = the mean of the red, green and blue channels. Chapter 4.

    Parameters
    ----------
    downsample : int >= 1
        Keep every ``downsample``-th row and column (a smaller matrix for a widget).

    Returns
    -------
    (600 // downsample, 512 // downsample) float64 array (rounded up)

    Examples
    --------
    >>> grace_hopper().shape
    (600, 512)
    """
    import matplotlib.cbook
    import matplotlib.image

    downsample = check_positive_int(downsample, "downsample")
    path = matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
    rgb = np.asarray(matplotlib.image.imread(path), dtype=np.float64)
    if rgb.max() > 1.0:          # 8-bit image: scale to [0, 1]
        rgb = rgb / 255.0
    gray = rgb[..., :3].mean(axis=2) if rgb.ndim == 3 else rgb
    return np.ascontiguousarray(gray[::downsample, ::downsample])


def low_rank_ratings(n_users: int = 200, n_items: int = 150, rank: int = 5, observed: float = 0.2,
                     noise: float = 0.1, rng=None):
    """A synthetic user × item ratings matrix of known low rank, with most entries missing.

    ``R_true = U Vᵀ`` with Gaussian factors ``U : (n_users, rank)``,
    ``V : (n_items, rank)`` scaled so the ratings have unit variance;
    ``R = R_true + noise · N(0, 1)``; each entry is observed independently
    with probability ``observed``. Chapter 4 (matrix completion).

    Returns
    -------
    R : (n_users, n_items) noisy ratings (all entries, for measuring held-out error)
    R_true : (n_users, n_items) the noise-free low-rank matrix
    mask : (n_users, n_items) bool, True where observed

    Examples
    --------
    >>> R, R_true, mask = low_rank_ratings(20, 10, 2, rng=np.random.default_rng(0))
    >>> int(np.linalg.matrix_rank(R_true)), mask.dtype
    (2, dtype('bool'))
    """
    n_users = check_positive_int(n_users, "n_users")
    n_items = check_positive_int(n_items, "n_items")
    rank = check_positive_int(rank, "rank", maximum=min(n_users, n_items), why="min(n_users, n_items)")
    observed = _check_positive_float(observed, "observed")
    if observed > 1:
        raise ValueError(f"observed must be a fraction in (0, 1]; got {observed}")
    noise = _check_positive_float(noise, "noise", allow_zero=True)
    rng = check_rng(rng)
    U = rng.standard_normal((n_users, rank))
    V = rng.standard_normal((n_items, rank))
    R_true = U @ V.T / np.sqrt(rank)
    R = R_true + noise * rng.standard_normal(R_true.shape)
    mask = rng.random(R.shape) < observed
    return R, R_true, mask
