"""Text classifiers: BagOfWords + LinearClassifier or NBSVM, their cross-validation, their file.

:func:`text_pipeline` builds the pipelines the command line trains,
:func:`cross_validate_text` estimates the accuracy of any scikit-learn classifier on raw
texts by k-fold cross-validation with ``C`` chosen inside each training fold, and
:func:`save_text_model` / :func:`load_text_model` keep a fitted pipeline in one model file.

Text model files
----------------
A text model file is a :mod:`fasttext_lin.persist` model file (the classifier, a
``LinearClassifier`` or an ``NBSVM``) whose ``extra`` slot holds the fitted featurizer, under
the namespace ``featurizer``::

    extra["metadata"]["featurizer"] = {
        "class": "BagOfWords", "version": 2,
        "params": _params_to_json(params),      # dtype stored by its name, e.g. "float64"
        "fitted": {"n_features_out_": 10001, "n_keys": 10000}}   # n_keys: vocabulary mode
    extra["arrays"]:
        featurizer/key_utf8   (total_bytes,) uint8     vocabulary mode: the terms in UTF-8
                                                       (lone surrogates as 'surrogatepass')
        featurizer/key_ptr    (n_keys + 1,) int64      vocabulary mode: term i is
                                                       key_utf8[key_ptr[i]:key_ptr[i + 1]]
        featurizer/idf_       (n_terms,) float64       weighting='tfidf'
        featurizer/nb_weight_ (n_terms,) float64       weighting='nb'

Featurizer version 1 (format 2 files) held ``key_codes``, the terms' code points as uint32,
with ``key_ptr`` counting code points; it still loads.

The vocabulary's hash table is not stored: it is rebuilt from the terms at load, so a file
cannot hold a table that disagrees with its terms. Loading checks every array against the
parameters and the classifier (``n_terms`` is ``n_keys`` or ``n_features``; the classifier
takes ``n_features_out_`` columns) and raises :class:`~fasttext_lin.persist.ModelFileError`
naming the file.
"""

import numpy as np
from sklearn.pipeline import Pipeline

from . import _text_kernels as _k
from . import persist
from ._constants import GRID, TEXT_MODELS
from .featurize import BagOfWords
from .linear_model import LinearClassifier
from .model_selection import cross_validate_text
from .model_selection import fit_fold as _fit_fold  # noqa: F401 (bench/bench_text.py's import)
from .nbsvm import NBSVM

__all__ = ["GRID", "MODELS", "STEPS", "cross_validate_text", "load_text_model",
           "save_text_model", "text_pipeline"]

STEPS = ("bagofwords", "classifier")
MODELS = TEXT_MODELS
_CLASSIFIERS = (LinearClassifier, NBSVM)
# Epochs when not given: averaged SGD settles in 10 on the linear model; NBSVM's binary
# models run Wang and Manning's rt-polarity setting (79.5% 10-fold at 30).
_EPOCHS = {"linear": 10, "nbsvm": 30}
_FEATURIZER = "featurizer"
_FEATURIZER_VERSION = 2
# Fitted arrays of one value per term, and the weighting that has each.
_TERM_ARRAYS = {"idf_": "tfidf", "nb_weight_": "nb"}
# The other public fitted attribute, stored in the metadata (the private _table and
# _n_keys are stored as key_codes / key_ptr and n_keys).
_OTHER_FITTED = ("n_features_out_",)
_MAX_CODE_POINT = 0x10FFFF


# -- the pipeline -----------------------------------------------------------------------------

def text_pipeline(*, model="linear", ngrams=1, weighting=None, tokenizer="default",
                  n_features=None, min_df=1, loss="hinge", C=1.0, beta=None, epochs=None,
                  average=True, random_state=0, probability=False, n_jobs=None,
                  parallel="hogwild"):
    """BagOfWords followed by LinearClassifier or NBSVM, as the command line trains them.

    ``model='linear'``: the featurizer adds a bias column (constant 1) and the
    :class:`LinearClassifier` fits no separate intercept: the bias weight is regularised
    like the others, as in liblinear, and an empty document is classified by the bias alone.

    ``model='nbsvm'``: the featurizer gives binary features (``weighting='binary'``,
    ``norm=None``, no bias column, hashing without alternating signs) and the :class:`NBSVM`
    scales them by its log-count ratios, normalises the rows and fits its own intercept
    (Wang and Manning, 2012). NBSVM binarises its input, so another weighting would be
    silently discarded: it is refused instead.

    Either classifier runs ``epochs`` epochs of averaged SGD (no early stopping) with the
    'optimal' step size.

    Parameters
    ----------
    model : {'linear', 'nbsvm'}, default='linear'
        The classifier.
    ngrams : int, default=1
        Word n-grams of lengths 1 to ``ngrams``.
    weighting : {'binary', 'count', 'tfidf', 'nb'} or None, default=None
        BagOfWords ``weighting``; None: 'tfidf' for 'linear', 'binary' for 'nbsvm' (the
        only value 'nbsvm' takes).
    tokenizer : {'default', 'whitespace'}, default='default'
        BagOfWords ``token_pattern``.
    n_features : int or None, default=None
        Hash into this many columns; None learns a vocabulary.
    min_df : int or float, default=1
        Keep terms found in at least this many documents (vocabulary mode).
    loss : str, default='hinge'
        Loss of the SGD models: 'hinge' (linear SVM), 'log_loss', 'modified_huber',
        'squared_hinge', or 'softmax' (one multinomial model; not with 'nbsvm').
    C : float, default=1.0
        LinearSVC-style regularisation (parameter ``classifier__C``).
    beta : float in (0, 1] or None, default=None
        NBSVM interpolation weight (1 is no interpolation); None: NBSVM's own default
        (Wang and Manning's 0.25 for two classes). Refused with ``model='linear'``.
    epochs : int or None, default=None
        ``max_iter`` of the SGD; None: 10 for 'linear', 30 for 'nbsvm'.
    average : bool or int, default=True
        Averaged SGD, which steadies the result of few epochs.
    random_state : int, default=0
        Seeds the shuffles of the epochs (and the folds of ``probability``).
    probability : bool, default=False
        ``model='linear'``: give a loss without probabilities of its own ('hinge',
        'squared_hinge') calibrated probabilities, Platt's sigmoids fitted on 5 held-out
        folds (:class:`LinearClassifier` ``probability``; 6 fits). Refused with
        ``model='nbsvm'``, which gives scores only.
    n_jobs : int or None, default=None
        Threads: over the one-vs-rest models of a multi-class problem (the model does not
        depend on it), or within one binary or softmax model (see ``parallel``).
    parallel : {'hogwild', 'deterministic'}, default='hogwild'
        ``model='linear'``: how ``n_jobs`` threads train one model
        (:class:`LinearClassifier` ``parallel``).

    Returns
    -------
    sklearn.pipeline.Pipeline
        Steps ``"bagofwords"`` and ``"classifier"``.

    Raises
    ------
    ValueError
        If a value is invalid: checked here, before any corpus is read.
    """
    if model not in MODELS:
        raise ValueError(f"text_pipeline: model={model!r} is invalid; expected one of "
                         f"{', '.join(map(repr, MODELS))}.")
    epochs = _EPOCHS[model] if epochs is None else epochs
    if model == "linear":
        if beta is not None:
            raise ValueError(f"text_pipeline: beta={beta!r} interpolates the weights of an "
                             "NBSVM; give model='nbsvm', or no beta.")
        values = {"weighting": weighting or "tfidf", "bias": True}
        classifier = LinearClassifier(loss, C=C, max_iter=epochs, tol=None, average=average,
                                      random_state=random_state, fit_intercept=False,
                                      probability=probability, n_jobs=n_jobs,
                                      parallel=parallel)
    else:
        if probability:
            raise ValueError("text_pipeline: probability=True calibrates the probabilities "
                             "of a LinearClassifier; an NBSVM gives scores only: give "
                             "model='linear', or no probability.")
        if weighting not in (None, "binary"):
            raise ValueError(f"text_pipeline: weighting={weighting!r} contradicts "
                             "model='nbsvm', which binarises its features (x > 0) and weighs "
                             "them by its own log-count ratios; leave weighting unset or "
                             "give 'binary'.")
        # Signed hashing would give NBSVM negative features.
        values = {"weighting": "binary", "norm": None, "alternate_sign": False}
        classifier = NBSVM(C, loss=loss, max_iter=epochs, average=average,
                           random_state=random_state, n_jobs=n_jobs)
        if beta is not None:
            classifier.set_params(beta=beta)
    featurizer = BagOfWords(n_features, token_pattern=tokenizer, ngram_range=(1, ngrams),
                            min_df=min_df, **values)
    featurizer._check_params()
    persist._check_params(classifier)
    return Pipeline(list(zip(STEPS, (featurizer, classifier))))


# -- files ------------------------------------------------------------------------------------

def save_text_model(path, pipeline, *, state=False):
    """Write a fitted BagOfWords + LinearClassifier or NBSVM pipeline to one file, atomically.

    Parameters
    ----------
    path : str or os.PathLike
        Replaced if it exists; refused if it is not a regular file.
    pipeline : sklearn.pipeline.Pipeline
        Two fitted steps, a :class:`BagOfWords` then a :class:`LinearClassifier` or an
        :class:`NBSVM` (any step names; :func:`load_text_model` names them ``STEPS``).
    state : bool, default=False
        Also store the classifier's SGD state (:func:`fasttext_lin.persist.save_model`):
        what ``partial_fit`` needs to continue exactly; without it, it continues from the
        solution.

    Raises
    ------
    TypeError
        If the pipeline is not made of these two steps.
    ValueError
        If it is not fitted, or holds a value a model file cannot hold without pickle;
        nothing is written then.
    """
    steps = getattr(pipeline, "steps", None)
    kinds = [type(step) for _, step in steps] if isinstance(steps, list) else None
    if not (kinds and len(kinds) == 2 and kinds[0] is BagOfWords
            and kinds[1] in _CLASSIFIERS):
        shown = [kind.__name__ for kind in kinds] if kinds else type(pipeline).__name__
        raise TypeError("save_text_model stores a Pipeline of a BagOfWords then a "
                        "LinearClassifier or an NBSVM (text_pipeline builds one); got "
                        f"{shown}.")
    featurizer, classifier = steps[0][1], steps[1][1]
    try:
        extra = _featurizer_extra(featurizer)
        n_in = getattr(classifier, "n_features_in_", None)
        if n_in not in (None, featurizer.n_features_out_):
            raise ValueError(f"the classifier takes {n_in} features but the featurizer gives "
                             f"{featurizer.n_features_out_}; fit the pipeline as a whole.")
    except (ValueError, persist._Problem) as exc:
        raise ValueError(f"cannot save model to '{path}': {exc}") from None
    persist.save_model(path, classifier, extra=extra, state=state)


def _featurizer_extra(bow):
    if not hasattr(bow, "n_features_out_"):
        raise ValueError("the BagOfWords is not fitted; fit the pipeline first.")
    fitted = {name for name in vars(bow) if name.endswith("_") and not name.startswith("__")}
    unknown = sorted(fitted - set(_TERM_ARRAYS) - set(_OTHER_FITTED))
    if unknown:
        raise ValueError(f"the BagOfWords has fitted attribute(s) {unknown} that "
                         "save_text_model does not know how to store.")
    params = bow.get_params()
    params["dtype"] = np.dtype(params["dtype"]).name
    metadata = {"class": "BagOfWords", "version": _FEATURIZER_VERSION,
                "params": persist._params_to_json(params),
                "fitted": {"n_features_out_": int(bow.n_features_out_)}}
    arrays = {}
    if bow.n_features is None:
        _, key_codes, key_ptr = bow._table
        n_keys = int(bow._n_keys)
        metadata["fitted"]["n_keys"] = n_keys
        arrays["key_utf8"], arrays["key_ptr"] = _utf8(key_codes[: key_ptr[n_keys]],
                                                      key_ptr[: n_keys + 1])
    for name in _TERM_ARRAYS:
        if hasattr(bow, name):
            arrays[name] = np.asarray(getattr(bow, name))
    return {"arrays": {f"{_FEATURIZER}/{name}": a for name, a in arrays.items()},
            "metadata": {_FEATURIZER: metadata}}


def _utf8(key_codes, key_ptr):
    """The terms given as code points and code-point offsets, as UTF-8 bytes and byte
    offsets."""
    codes = np.ascontiguousarray(key_codes, dtype=np.uint32)
    blob = codes.tobytes().decode("utf-32-le", "surrogatepass").encode("utf-8", "surrogatepass")
    width = 1 + (codes >= 0x80) + (codes >= 0x800) + (codes >= 0x10000)
    ends = np.concatenate([[0], np.cumsum(width, dtype=np.int64)])
    return np.frombuffer(blob, dtype=np.uint8), ends[np.asarray(key_ptr, dtype=np.int64)]


def _code_points(key_utf8, key_ptr):
    """Inverse of :func:`_utf8`, checked: ``(key_codes, key_ptr)`` in code points."""
    if key_utf8.dtype != np.uint8 or key_utf8.ndim != 1:
        raise persist._Problem(f"featurizer key_utf8 has dtype {key_utf8.dtype} and "
                               f"{key_utf8.ndim} dimension(s), expected 1-D uint8.")
    if key_ptr.ndim != 1 or key_ptr.shape[0] < 1 or key_ptr.dtype != np.int64:
        raise persist._Problem(f"featurizer key_ptr has shape {key_ptr.shape} and dtype "
                               f"{key_ptr.dtype}, expected 1-D int64.")
    if key_ptr[0] != 0 or np.any(np.diff(key_ptr) < 0) or key_ptr[-1] != key_utf8.shape[0]:
        raise persist._Problem("featurizer key_ptr does not rise from 0 to "
                               f"len(key_utf8)={key_utf8.shape[0]}.")
    try:
        text = key_utf8.tobytes().decode("utf-8", "surrogatepass")
    except UnicodeDecodeError as exc:
        raise persist._Problem(f"featurizer key_utf8 is not UTF-8 ({exc}).") from None
    # A term starts on the first byte of a character (not a continuation byte 10xxxxxx).
    starts = np.append((key_utf8 & 0xC0) != 0x80, True)
    if not starts[key_ptr].all():
        raise persist._Problem("featurizer key_ptr cuts a character of key_utf8 in two.")
    ends = np.concatenate([[0], np.cumsum(starts[:-1], dtype=np.int64)])
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    return codes, ends[key_ptr]


def _current_extra(extra, classifier, path):
    """``extra`` of a text model file, in the layout :func:`save_text_model` writes now."""
    try:
        return _featurizer_extra(_load_featurizer(extra, classifier))
    except persist._Problem as exc:
        raise persist.ModelFileError(f"cannot load model from '{path}': {exc}") from None


def load_text_model(path):
    """Read a pipeline written by :func:`save_text_model`, validating everything first.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    sklearn.pipeline.Pipeline
        Fitted, steps named ``STEPS`` (a :class:`BagOfWords`, then a
        :class:`LinearClassifier` or an :class:`NBSVM`): transforms and predictions equal the
        saved ones.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ModelFileError
        A ``ValueError`` ``"cannot load model from '<path>': <problem>"`` for a truncated,
        corrupted, foreign or newer-format file, or a model file without a featurizer.
    """
    classifier, extra = persist.load_model(path, return_extra=True)
    try:
        featurizer = _load_featurizer(extra, classifier)
    except persist._Problem as exc:
        raise persist.ModelFileError(f"cannot load model from '{path}': {exc}") from None
    return Pipeline(list(zip(STEPS, (featurizer, classifier))))


def _load_featurizer(extra, classifier):
    metadata = extra["metadata"].get(_FEATURIZER)
    if metadata is None:
        raise persist._Problem("it holds a classifier without a featurizer (saved by "
                               "save_model, not save_text_model): load it with load_model "
                               "and give it feature vectors.")
    where = f"extra metadata {_FEATURIZER!r}"
    if not isinstance(metadata, dict) or metadata.get("class") != "BagOfWords":
        raise persist._Problem(f"{where} is not a BagOfWords.")
    version = persist._require(metadata, "version", int, where)
    if version > _FEATURIZER_VERSION:
        raise persist._Problem(f"featurizer written by a newer fasttext_lin (version {version} "
                               f"> {_FEATURIZER_VERSION}): upgrade fasttext_lin to load it.")
    if version < 1:
        raise persist._Problem(f"unknown featurizer version {version}.")
    bow = _featurizer_from_params(persist._require(metadata, "params", dict, where))
    fitted = persist._require(metadata, "fitted", dict, where)
    arrays = {name[len(_FEATURIZER) + 1:]: a for name, a in extra["arrays"].items()
              if name.startswith(_FEATURIZER + "/")}
    n_out = persist._require(fitted, "n_features_out_", int, where + " fitted")
    vocabulary = bow.n_features is None
    terms = "key_codes" if version == 1 else "key_utf8"
    expected = {terms, "key_ptr"} if vocabulary else set()
    expected |= {name for name, weighting in _TERM_ARRAYS.items()
                 if weighting == bow.weighting}
    if set(arrays) != expected:
        raise persist._Problem(f"featurizer arrays {sorted(arrays)}, expected "
                               f"{sorted(expected)} for n_features={bow.n_features!r} and "
                               f"weighting={bow.weighting!r}.")
    if vocabulary:
        n_terms = persist._require(fitted, "n_keys", int, where + " fitted")
        key_codes, key_ptr = arrays[terms], arrays["key_ptr"]
        if version > 1:
            key_codes, key_ptr = _code_points(key_codes, key_ptr)
        bow._table = _table(key_codes, key_ptr, n_terms)
        bow._n_keys = n_terms
    else:
        n_terms = bow.n_features
    if n_out != n_terms + (1 if bow.bias else 0):
        raise persist._Problem(f"featurizer n_features_out_={n_out}, expected {n_terms} terms"
                               f"{' + 1 bias column' if bow.bias else ''}.")
    if classifier.n_features_in_ != n_out:
        raise persist._Problem(f"the classifier takes {classifier.n_features_in_} features but "
                               f"the featurizer gives {n_out}.")
    bow.n_features_out_ = n_out
    for name in expected & set(_TERM_ARRAYS):
        setattr(bow, name, _term_array(arrays[name], name, n_terms))
    return bow


def _featurizer_from_params(params):
    params = persist._params_from_json(params)
    known = BagOfWords().get_params()
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise persist._Problem(f"unknown BagOfWords parameter(s) {unknown}.")
    try:
        if "dtype" in params:
            params["dtype"] = np.dtype(params["dtype"]).type
        if isinstance(params.get("ngram_range"), list):
            params["ngram_range"] = tuple(params["ngram_range"])
        bow = BagOfWords(**params)
        bow._check_params()
    except (TypeError, ValueError) as exc:
        raise persist._Problem(f"invalid BagOfWords parameters: {exc}") from None
    return bow


def _table(key_codes, key_ptr, n_keys):
    """The vocabulary's hash table rebuilt from its checked terms."""
    if n_keys < 1 or key_ptr.dtype != np.int64 or key_ptr.shape != (n_keys + 1,):
        raise persist._Problem(f"featurizer key_ptr has shape {key_ptr.shape} and dtype "
                               f"{key_ptr.dtype}, expected ({n_keys + 1},) int64 for "
                               f"n_keys={n_keys} >= 1.")
    if key_codes.dtype != np.uint32 or key_codes.ndim != 1:
        raise persist._Problem(f"featurizer key_codes has dtype {key_codes.dtype} and "
                               f"{key_codes.ndim} dimension(s), expected 1-D uint32.")
    if key_ptr[0] != 0 or np.any(np.diff(key_ptr) < 0) or key_ptr[-1] != key_codes.shape[0]:
        raise persist._Problem("featurizer key_ptr does not rise from 0 to "
                               f"len(key_codes)={key_codes.shape[0]}.")
    if key_codes.shape[0] and key_codes.max() > _MAX_CODE_POINT:
        raise persist._Problem("featurizer key_codes holds a value beyond the last Unicode "
                               "code point.")
    table, codes, ptr = _k.build_table(key_codes, key_ptr, np.arange(n_keys, dtype=np.int64))
    hashes = table[0::2][table[1::2] != 0]
    # Equal terms have equal hashes: the cheap test settles almost every file.
    if np.unique(hashes).shape[0] < n_keys:
        text = key_codes.tobytes().decode("utf-32-le", "surrogatepass")
        bounds = key_ptr.tolist()
        terms = {text[bounds[i]: bounds[i + 1]] for i in range(n_keys)}
        if len(terms) < n_keys:
            raise persist._Problem("featurizer vocabulary holds a term twice.")
    return table, codes, ptr


def _term_array(array, name, n_terms):
    if array.dtype != np.float64 or array.shape != (n_terms,):
        raise persist._Problem(f"featurizer {name} has shape {array.shape} and dtype "
                               f"{array.dtype}, expected ({n_terms},) float64.")
    if np.isnan(array).any():
        raise persist._Problem(f"featurizer {name} holds NaN.")
    return array
