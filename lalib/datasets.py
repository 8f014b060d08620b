"""Small offline data sets for the chapters, all generated from a seeded ``rng``.

Nothing here downloads anything by itself: every data set is made on the spot
from a known latent structure, so that a chapter can measure what a method
recovered — or, for Zachary's karate club, read from networkx, which ships it.
The one exception is opt-in: ``load_planetoid(..., download=True)`` fetches
Cora, Citeseer or Pubmed and checks every file's SHA-256 before reading it.
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


# --- chapter 5: graph neural networks ---

@_dataclass
class GraphData:
    """A graph for node classification: sparse adjacency, node features, labels, and a split.

    Attributes
    ----------
    A : (n, n) scipy.sparse.csr_array, symmetric, no self loops
    X : (n, d) features (dense ndarray, or sparse CSR for bag-of-words data)
    y : (n,) int64 labels ``0 .. c-1``
    name : str
    class_names : list of str
    train_idx, val_idx, test_idx : int64 index arrays, or None when the data set has no standard split
    """

    A: object
    X: object
    y: np.ndarray
    name: str
    class_names: list
    train_idx: np.ndarray | None = None
    val_idx: np.ndarray | None = None
    test_idx: np.ndarray | None = None

    @property
    def n_nodes(self) -> int:
        return self.A.shape[0]

    @property
    def n_edges(self) -> int:
        """Number of undirected edges ``{i, j}``."""
        return int(self.A.nnz // 2)

    def __repr__(self) -> str:
        return (f"GraphData({self.name!r}: {self.n_nodes} nodes, {self.n_edges} edges, "
                f"{self.X.shape[1]} features, {len(self.class_names)} classes)")


def karate_club():
    """Zachary's karate club: 34 members, 78 friendships, and the two factions it split into.

    From ``networkx.karate_club_graph`` (which ships the data): ``y[i] = 0``
    for the members who followed the instructor ("Mr. Hi", node 0) and 1 for
    those who followed the club's officer ("Officer", node 33). The features
    are the identity ``X = I`` (no attributes, only the graph), as in Kipf &
    Welling's karate-club demonstration. Zachary (1977). Chapter 5.

    Returns
    -------
    GraphData with ``A`` unweighted (34 × 34), ``X = I``, ``y`` (34,)

    Examples
    --------
    >>> g = karate_club(); g.n_nodes, g.n_edges, int(g.y.sum())
    (34, 78, 17)
    """
    import networkx as nx
    import scipy.sparse as sp

    G = nx.karate_club_graph()
    nodes = list(G.nodes)
    A = sp.csr_array(nx.to_scipy_sparse_array(G, nodelist=nodes, weight=None, dtype=np.float64))
    y = np.array([0 if G.nodes[v]["club"] == "Mr. Hi" else 1 for v in nodes], dtype=np.int64)
    return GraphData(A=A, X=np.eye(len(nodes)), y=y, name="karate club", class_names=["Mr. Hi", "Officer"])


def sbm_graph(n_nodes=1000, n_classes=4, avg_degree=10.0, intra_fraction=0.8, n_features=16,
              feature_signal=1.0, rng=None, *, dtype=np.float64):
    """A stochastic block model graph with class-correlated features, sparse and vectorized.

    Nodes get balanced labels ``y``. About ``n_nodes · avg_degree / 2``
    undirected edges are drawn at once: a fraction ``intra_fraction`` joins
    two uniformly chosen nodes of the same class, the rest join a node to a
    uniformly chosen node of another class. (Equal classes make this an SBM
    with ``p_in / p_out = intra_fraction (c − 1) / (1 − intra_fraction)``;
    ``intra_fraction = 1/c`` carries no information in the edges.) Self loops
    and repeated pairs are dropped, so the edge count is a little below the
    target. Features ``X = M[y] + N(0, I)``: each class has a mean ``M_c``
    with i.i.d. ``N(0, feature_signal² / n_features)`` entries, so
    ``feature_signal`` is the typical distance of a class mean from the
    origin in units of the noise. Everything is NumPy vectorized: 10⁵ nodes
    and 10⁶ edges take about a second. Chapter 5.

    Parameters
    ----------
    n_nodes : int >= n_classes
    n_classes : int >= 2
    avg_degree : float > 0
    intra_fraction : float in [0, 1], the fraction of edges inside a class (homophily)
    n_features : int >= 1
    feature_signal : float >= 0 (0: features carry no information)
    rng : numpy.random.Generator
    dtype : float32 or float64, for ``X``

    Returns
    -------
    GraphData (no standard split)

    Examples
    --------
    >>> g = sbm_graph(200, 2, avg_degree=6, rng=np.random.default_rng(0))
    >>> g.n_nodes, g.X.shape, bool(abs(g.A - g.A.T).max() == 0)
    (200, (200, 16), True)
    """
    import scipy.sparse as sp

    from ._validate import check_probability

    n_classes = check_positive_int(n_classes, "n_classes")
    if n_classes < 2:
        raise ValueError(f"n_classes must be at least 2; got {n_classes}")
    n = check_positive_int(n_nodes, "n_nodes")
    if n < n_classes:
        raise ValueError(f"n_nodes must be at least n_classes = {n_classes}; got {n}")
    avg_degree = _check_positive_float(avg_degree, "avg_degree")
    h = check_probability(intra_fraction, "intra_fraction", allow_one=True)
    d = check_positive_int(n_features, "n_features")
    signal = _check_positive_float(feature_signal, "feature_signal", allow_zero=True)
    rng = check_rng(rng)
    if np.dtype(dtype) not in (np.float32, np.float64):
        raise TypeError(f"dtype must be float32 or float64; got {np.dtype(dtype)}")

    y = rng.permutation(np.arange(n) % n_classes).astype(np.int64)
    members = np.argsort(y, kind="stable")           # nodes grouped by class
    sizes = np.bincount(y, minlength=n_classes)
    start = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    m = int(round(n * avg_degree / 2))
    m_in = rng.binomial(m, h)

    def pick(classes):  # a uniform member of each given class
        return members[start[classes] + (rng.random(classes.size) * sizes[classes]).astype(np.int64)]

    c_in = rng.integers(0, n_classes, m_in)
    u_in, v_in = pick(c_in), pick(c_in)
    u_out = rng.integers(0, n, m - m_in)
    v_out = pick((y[u_out] + rng.integers(1, n_classes, m - m_in)) % n_classes)
    u = np.concatenate([u_in, u_out])
    v = np.concatenate([v_in, v_out])
    keep = u != v
    u, v = u[keep], v[keep]
    A = sp.csr_array((np.ones(2 * u.size), (np.concatenate([u, v]), np.concatenate([v, u]))), shape=(n, n))
    A.sum_duplicates()
    A.data[:] = 1.0                                  # a repeated pair is one edge
    M = rng.standard_normal((n_classes, d)) * (signal / np.sqrt(d))
    X = (M[y] + rng.standard_normal((n, d))).astype(dtype, copy=False)
    return GraphData(A=A, X=X, y=y, name=f"SBM({n}, {n_classes} classes, h={h:.2f})",
                     class_names=[f"block {c}" for c in range(n_classes)])


def split_per_class(y, n_per_class, n_val=0, n_test=None, rng=None):
    """A Planetoid-style split: ``n_per_class`` labelled nodes per class, then validation and test nodes.

    Returns ``(train_idx, val_idx, test_idx)``, disjoint, each sorted; test
    takes all remaining nodes when ``n_test`` is None. Chapter 5.

    Examples
    --------
    >>> tr, va, te = split_per_class(np.array([0, 0, 1, 1, 1]), 1, 1, rng=np.random.default_rng(0))
    >>> len(tr), len(va), len(te)
    (2, 1, 2)
    """
    from ._validate import as_int_array, check_nonneg_int

    y = as_int_array(y, "y", ndim=1, low=0)
    k = check_positive_int(n_per_class, "n_per_class")
    n_val = check_nonneg_int(n_val, "n_val")
    rng = check_rng(rng)
    counts = np.bincount(y)
    if counts[counts > 0].min() < k:
        raise ValueError(f"n_per_class must be at most the size of the smallest class ({counts[counts > 0].min()}); "
                         f"got {k}")
    order = rng.permutation(y.size)
    train = np.concatenate([order[y[order] == c][:k] for c in np.flatnonzero(counts)])
    rest = np.setdiff1d(order, train, assume_unique=True)
    rest = rest[rng.permutation(rest.size)]
    if n_val + (0 if n_test is None else n_test) > rest.size:
        raise ValueError(f"n_val + n_test must be at most the {rest.size} unlabelled nodes")
    val = rest[:n_val]
    test = rest[n_val:] if n_test is None else rest[n_val:n_val + check_nonneg_int(n_test, "n_test")]
    return np.sort(train), np.sort(val), np.sort(test)


# Planetoid (Yang, Cohen & Salakhutdinov, 2016): Cora, Citeseer, Pubmed, as the files of
# github.com/kimiyoung/planetoid at the commit below (the files Kipf & Welling and PyTorch
# Geometric read). The SHA-256 digests were computed from the blobs of that commit, read
# from a mirror of the repository, except ind.pubmed.allx, which that mirror did not hold:
# its digest is copied from an independent third-party table whose other 23 digests agree
# with ours exactly. A file whose digest does not match is never unpickled.
PLANETOID_COMMIT = "af6abf468a772cc055bec88c52e4d6f51b7c37e3"
PLANETOID_URL = "https://raw.githubusercontent.com/kimiyoung/planetoid/{commit}/data/{file}"
PLANETOID_PARTS = ("x", "y", "tx", "ty", "allx", "ally", "graph", "test.index")
PLANETOID_SHA256 = {
    "cora": {
        "x": "23cfa55d91c6f624233f5eb7b6e3f141f1bd2b2ae39608a63cf5d084bb27baab",
        "y": "94465c14eb53e04ca262198dcbb2521ee8af60fb3f3d546cd6ca24a511b0e7d1",
        "tx": "b9afbaa4a400df991f6f02ef677e1e44da55ffc04801fd02f9e673987829226a",
        "ty": "41f5ac76596a1699cc33f53084a2419e92961c42bb75f36fc38e616d348532ad",
        "allx": "9419ba2f26f5c35243db64aba110e0f35a04851609e0dc5433450676ca6b8543",
        "ally": "2b998f5cc7fedc86e7f97ca2498f47a1ffc1462c29e2d578b23bf3f62b6e7d71",
        "graph": "58f13302f39dde8852dad6fe6d15b89b077b6d7f837626bce671ef80344b383d",
        "test.index": "297ce89af2b51a6a194181c7dbe1796c6a1cf9cd9349a88383b1b1e227867875",
    },
    "citeseer": {
        "x": "d20de19150741e555de0ed037195630fc194114ebc7fd72ced62810148aa22f6",
        "y": "8ba87e515d8e3ee3cf52f6d2c5b86aa73f11ecad825a808455209ec26cd54924",
        "tx": "539a8906a2da97628d212f2fdd668c109a8b3f0d36574b59e5d3fd5b5303da21",
        "ty": "55e5bd1ba1e733a04598753ad1a8d57957f4b8f89e74519f41f4f4938767e4ce",
        "allx": "2ac30345d95c9ec933a817ee0bdd6a5f077f8c184a20e696910192d534414668",
        "ally": "f704b2d986dde6c2669934de1f3ae5696a6cf9455c0f6b2646a2d135ea0a1c95",
        "graph": "d79a4ef9d3e7169aee8946145f6b7306e35bc79bffad26346cfb94e10e9912a7",
        "test.index": "2af990671580b6b2df5d158d1038f8292e30c9cd821b5453f399659b25b723d4",
    },
    "pubmed": {
        "x": "fbe9cb5c47200d1b7769a26e579be3b7130b556831f9d850e77c4c74f2599b33",
        "y": "e6c807633307a07ed659249006536a147c7999c797f11a2560752990181b41b3",
        "tx": "4eb5f5d0f30f26497eb0ac6ac9719d09c67e284f1ed0385c93f3ef27a671da3d",
        "ty": "ee2e0d4819d9fbcc403689c3bf2e49face401b605932f093bc58ab6461130fdd",
        "allx": "508e538e2abdccdd54c4d3e9f49d638b4af7107d85845f66ddea5a5152658b7e",
        "ally": "0c37bbe3b5014ec365e9d393cf4791925e5ed94fb194305d74f064a8d7b50f0e",
        "graph": "5b89f0036ca22909471f1e6558eb42fa06e0c730a577bde5b058b40638f81dc9",
        "test.index": "b101d421688bbaecbd82e8a18f1e282378d6830f3a37666f28ebc47f844341b5",
    },
}

# The only globals a Planetoid pickle may name: NumPy arrays, SciPy CSR matrices, a
# defaultdict of lists. Anything else (os.system, builtins.eval, ...) is refused.
_PICKLE_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    ("numpy", "ndarray"), ("numpy", "dtype"),
    ("scipy.sparse.csr", "csr_matrix"), ("scipy.sparse._csr", "csr_matrix"),
    ("collections", "defaultdict"), ("builtins", "list"), ("builtins", "dict"), ("builtins", "int"),
    ("builtins", "object"), ("copyreg", "_reconstructor"),
}


_PY2_MODULES = {"__builtin__": "builtins", "copy_reg": "copyreg"}


class PlanetoidFileError(ValueError):
    """A Planetoid file failed its digest check or held something other than arrays."""


def _resolve_allowed(module: str, name: str):
    """The object an allowed (module, name) pair stands for, without importing deprecated module paths."""
    import builtins
    import collections
    import copyreg

    import scipy.sparse as sp

    if module.startswith("numpy"):
        if name == "_reconstruct":
            return np.ndarray.__reduce__(np.zeros(1))[0]  # numpy's own reconstructor, whatever its module
        if name == "scalar":
            return np.float64(0).__reduce__()[0]
        return getattr(np, name)
    if module.startswith("scipy"):
        return sp.csr_matrix
    if module == "collections":
        return collections.defaultdict
    if module == "copyreg":
        return copyreg._reconstructor
    return getattr(builtins, name)


def _restricted_loads(data: bytes, where: str):
    """Unpickle ``data`` admitting only the NumPy/SciPy/builtin types of ``_PICKLE_ALLOWED``."""
    import io
    import pickle

    class _Restricted(pickle.Unpickler):
        def find_class(self, module, name):
            module = _PY2_MODULES.get(module, module)  # the files were pickled by Python 2
            if (module, name) not in _PICKLE_ALLOWED:
                raise PlanetoidFileError(f"{where}: refusing to unpickle {module}.{name} (only NumPy arrays, "
                                         "SciPy CSR matrices and lists/dicts are allowed in a Planetoid file)")
            return _resolve_allowed(module, name)

    try:
        return _Restricted(io.BytesIO(data), encoding="latin1").load()
    except PlanetoidFileError:
        raise
    except Exception as exc:  # a truncated or garbled file
        raise PlanetoidFileError(f"{where}: not a readable Planetoid pickle ({type(exc).__name__}: {exc})") from None


def planetoid_cache_dir():
    """Where :func:`load_planetoid` keeps its files: ``$LALIB_DATA/planetoid`` or ``~/.cache/lalib/planetoid``."""
    import os
    from pathlib import Path

    base = os.environ.get("LALIB_DATA")
    return (Path(base) if base else Path.home() / ".cache" / "lalib") / "planetoid"


def _planetoid_bytes(name, part, root, download, digests):
    """The verified bytes of one Planetoid file: read (or download) it, check its SHA-256, only then return it."""
    import urllib.error
    import urllib.request

    fname = f"ind.{name}.{part}"
    path = root / fname
    if not path.exists():
        if not download:
            raise FileNotFoundError(
                f"Planetoid {name!r}: {fname} is not in {root}. Call load_planetoid({name!r}, download=True) "
                f"on a machine that is online (8 files from github.com/kimiyoung/planetoid), or copy the "
                f"ind.{name}.* files into {root}. Offline, use datasets.sbm_graph() or datasets.karate_club().")
        url = PLANETOID_URL.format(commit=PLANETOID_COMMIT, file=fname)
        try:
            with urllib.request.urlopen(url, timeout=60) as response:
                data = response.read()
        except (urllib.error.URLError, OSError) as exc:
            raise ConnectionError(
                f"Planetoid {name!r}: could not download {url} ({exc}). This machine seems to be offline; "
                f"copy the ind.{name}.* files into {root} by hand, or use datasets.sbm_graph().") from None
        _verify_digest(data, fname, digests[part])
        root.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".part")
        tmp.write_bytes(data)
        tmp.replace(path)  # only a verified file ever gets the real name
        return data
    data = path.read_bytes()
    _verify_digest(data, fname, digests[part])
    return data


def _verify_digest(data: bytes, fname: str, expected: str):
    import hashlib

    got = hashlib.sha256(data).hexdigest()
    if got != expected:
        raise PlanetoidFileError(f"{fname}: SHA-256 {got} does not match the pinned {expected}; refusing to read "
                                 "it (a corrupted or altered file — delete it and download again)")


def load_planetoid(name="cora", root=None, download=False, *, normalize_features=True, digests=None):
    """Cora, Citeseer or Pubmed with the standard Planetoid split (opt-in download, verified before reading).

    Reads the eight files ``ind.<name>.{x, y, tx, ty, allx, ally, graph,
    test.index}`` from ``root`` (default :func:`planetoid_cache_dir`),
    downloading the missing ones from github.com/kimiyoung/planetoid at a
    pinned commit **only when** ``download=True``. Every file's SHA-256 is
    checked against ``PLANETOID_SHA256`` before it is read, and the pickles
    are read by a restricted unpickler that admits only NumPy arrays, SciPy
    CSR matrices and lists/dicts — a file that names any other callable is
    refused. The split is Yang et al.'s, as Kipf & Welling use it: the 20
    labelled nodes per class of ``y`` for training, the next 500 nodes for
    validation, the 1000 test nodes of ``test.index``. Citeseer's test nodes
    without features (isolated in the file) get zero features and label 0,
    as in Kipf & Welling's code. Features are row-normalized (each row sums to
    1) when ``normalize_features``. Chapter 5.

    Parameters
    ----------
    name : {"cora", "citeseer", "pubmed"}
    root : str or Path, optional
    download : bool
        Allow network access to fetch missing files (never done otherwise).
    normalize_features : bool
    digests : dict part -> sha256 hex, optional
        Overrides the pinned digests (for files you made yourself, e.g. test fixtures).

    Returns
    -------
    GraphData with sparse ``X`` (CSR) and the standard ``train_idx`` (20 per class),
    ``val_idx`` (500), ``test_idx`` (1000)

    Raises
    ------
    FileNotFoundError when a file is missing and ``download`` is False;
    ConnectionError when the download fails (offline); PlanetoidFileError
    (a ValueError) when a digest does not match or a pickle holds anything else.

    Examples
    --------
    >>> import tempfile
    >>> try:
    ...     g = load_planetoid("cora", root=tempfile.mkdtemp())   # an empty cache: nothing to read
    ... except FileNotFoundError as err:
    ...     print("not downloaded yet")                          # and nothing was downloaded
    not downloaded yet
    """
    from pathlib import Path

    import scipy.sparse as sp

    from ._validate import check_choice

    name = check_choice(name, "name", tuple(PLANETOID_SHA256))
    if not isinstance(download, bool):
        raise TypeError(f"download must be True or False; got {download!r}")
    root = planetoid_cache_dir() if root is None else Path(root)
    digests = PLANETOID_SHA256[name] if digests is None else dict(digests)
    missing = [p for p in PLANETOID_PARTS if p not in digests]
    if missing:
        raise ValueError(f"digests must give a SHA-256 for every part {PLANETOID_PARTS}; missing {missing}")

    raw = {p: _planetoid_bytes(name, p, root, download, digests) for p in PLANETOID_PARTS}
    objs = {p: _restricted_loads(raw[p], f"ind.{name}.{p}") for p in PLANETOID_PARTS if p != "test.index"}
    try:
        test_index = np.array([int(line) for line in raw["test.index"].decode("ascii").split()], dtype=np.int64)
    except (UnicodeDecodeError, ValueError) as exc:
        raise PlanetoidFileError(f"ind.{name}.test.index: expected one integer per line ({exc})") from None
    for p in ("x", "tx", "allx"):
        if not sp.issparse(objs[p]):
            raise PlanetoidFileError(f"ind.{name}.{p}: expected a sparse matrix; got {type(objs[p]).__name__}")
    for p in ("y", "ty", "ally"):
        if not isinstance(objs[p], np.ndarray) or objs[p].ndim != 2:
            raise PlanetoidFileError(f"ind.{name}.{p}: expected a 2-D one-hot array; got {type(objs[p]).__name__}")
    if not isinstance(objs["graph"], dict):
        raise PlanetoidFileError(f"ind.{name}.graph: expected a dict of neighbour lists")

    tx, ty = sp.csr_array(objs["tx"], dtype=np.float64), np.asarray(objs["ty"], dtype=np.float64)
    allx, ally = sp.csr_array(objs["allx"], dtype=np.float64), np.asarray(objs["ally"], dtype=np.float64)
    test_sorted = np.sort(test_index)
    lo, hi = int(test_sorted[0]), int(test_sorted[-1])
    if hi - lo + 1 > tx.shape[0]:  # Citeseer: test ids with no row in tx get zero features and labels
        pos = test_sorted - lo
        tx_ext = sp.lil_array((hi - lo + 1, tx.shape[1]))
        tx_ext[pos] = tx
        ty_ext = np.zeros((hi - lo + 1, ty.shape[1]))
        ty_ext[pos] = ty
        tx, ty = sp.csr_array(tx_ext), ty_ext
    test_range = test_sorted
    X = sp.vstack([allx, tx], format="lil")
    Y = np.vstack([ally, ty])
    X[test_index] = X[test_range]          # the files store the test rows in a shuffled order
    Y[test_index] = Y[test_range]
    X = sp.csr_array(X)
    n = X.shape[0]
    graph = objs["graph"]
    rows = np.array([i for i, nbrs in graph.items() for _ in nbrs], dtype=np.int64)
    cols = np.array([j for nbrs in graph.values() for j in nbrs], dtype=np.int64)
    keep = (rows != cols) & (rows < n) & (cols < n)
    A = sp.csr_array((np.ones(2 * keep.sum()), (np.concatenate([rows[keep], cols[keep]]),
                                                 np.concatenate([cols[keep], rows[keep]]))), shape=(n, n))
    A.sum_duplicates()
    A.data[:] = 1.0
    if normalize_features:
        s = np.asarray(X.sum(axis=1)).ravel()
        X = sp.csr_array(sp.diags_array(np.where(s > 0, 1.0 / np.where(s > 0, s, 1), 0.0)) @ X)
    y = np.argmax(Y, axis=1).astype(np.int64)
    n_train = objs["y"].shape[0]
    return GraphData(A=A, X=X, y=y, name=name, class_names=[f"class {c}" for c in range(Y.shape[1])],
                     train_idx=np.arange(n_train), val_idx=np.arange(n_train, n_train + 500),
                     test_idx=np.sort(test_index))
