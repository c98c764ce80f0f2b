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
        "params": params_to_json(params),       # dtype stored by its name, e.g. "float64"
        "fitted": {"n_features_out_": 10001, "n_keys": 10000}}   # n_keys: vocabulary mode
    extra["arrays"]:
        featurizer/<name>     the arrays of BagOfWords.to_arrays: key_utf8 and key_ptr
                              (vocabulary mode), idf_ or nb_weight_

:meth:`BagOfWords.to_arrays` and :meth:`BagOfWords.from_arrays` give and check the version,
params, fitted values and arrays (featurizer version 1, of format 2 files, still loads).
Loading also checks the featurizer against the classifier (which takes ``n_features_out_``
columns) and raises :class:`~fasttext_lin.persist.ModelFileError` naming the file.
"""

from sklearn.pipeline import Pipeline

from . import persist
from ._constants import GRID, TEXT_MODELS, fit_solver
from ._model_file import Problem, loading, params_from_json, params_to_json, require
from .featurize import BagOfWords
from .linear_model import LinearClassifier
from .model_selection import LinearClassifierCV, cross_validate_text
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


# -- the pipeline -----------------------------------------------------------------------------

def text_pipeline(*, model="linear", ngrams=1, weighting=None, tokenizer="default",
                  n_features=None, min_df=1, loss=None, C=1.0, beta=None, epochs=None,
                  average=True, random_state=0, probability=False, n_jobs=None,
                  parallel="hogwild", solver="auto"):
    """BagOfWords followed by LinearClassifier or NBSVM, as the command line trains them.

    ``model='linear'``: the featurizer adds a bias column (constant 1) and the
    :class:`LinearClassifier` fits no separate intercept: the bias weight is regularised
    like the others, as in liblinear, and an empty document is classified by the bias alone.

    ``model='nbsvm'``: the featurizer gives binary features (``weighting='binary'``,
    ``norm=None``, no bias column, hashing without alternating signs) and the :class:`NBSVM`
    scales them by its log-count ratios, normalises the rows and fits its own intercept
    (Wang and Manning, 2012). NBSVM binarises its input, so another weighting would be
    silently discarded: it is refused instead.

    The linear model is solved as :class:`LinearClassifier` ``solver`` says: by default
    exactly, to its duality gap, for a loss with an exact solver ('hinge',
    'squared_hinge', 'log_loss'), else by SGD. SGD (and NBSVM, always) runs ``epochs``
    epochs of averaged SGD (no early stopping) with the 'optimal' step size.

    Parameters
    ----------
    model : {'linear', 'nbsvm'}, default='linear'
        The classifier.
    ngrams : int, default=1
        Word n-grams of lengths 1 to ``ngrams``.
    weighting : {'binary', 'count', 'tfidf', 'nb'} or None, default=None
        BagOfWords ``weighting``; None: 'tfidf' for 'linear', 'binary' for 'nbsvm' (the
        only value 'nbsvm' takes). 'tfidf' is sublinear (``1 + log(count)`` times the idf,
        BagOfWords ``sublinear_tf=True``): long documents gain, short ones barely change.
    tokenizer : {'default', 'whitespace'}, default='default'
        BagOfWords ``token_pattern``.
    n_features : int or None, default=None
        Hash into this many columns; None learns a vocabulary.
    min_df : int or float, default=1
        Keep terms found in at least this many documents (vocabulary mode).
    loss : str or None, default=None
        Loss of the SGD models: 'hinge' (linear SVM), 'log_loss', 'modified_huber',
        'squared_hinge', or 'softmax' (one multinomial model; not with 'nbsvm'). None:
        'hinge', but with ``model='linear'`` and ``C='auto'``, where the loss is chosen too.
    C : float or 'auto', default=1.0
        LinearSVC-style regularisation (parameter ``classifier__C``). 'auto': with
        ``model='linear'`` the classifier is a :class:`~fasttext_lin.LinearClassifierCV`
        (C, and the loss unless given, chosen by 3-fold CV, as :func:`cross_validate_text`'s
        inner search, along its warm-started path; the loss's
        exact solver; ``epochs`` its ``max_iter`` if given; ``average`` and ``parallel``
        unused); with ``model='nbsvm'``, ``NBSVM(C='auto')``.
    beta : float in (0, 1] or None, default=None
        NBSVM interpolation weight (1 is no interpolation); None: NBSVM's own default
        (Wang and Manning's 0.25 for two classes). Refused with ``model='linear'``.
    epochs : int or None, default=None
        ``max_iter`` of the SGD; None: 10 for 'linear', 30 for 'nbsvm'. Refused when the
        linear model runs an exact solver (it stops at its duality gap).
    average : bool or int, default=True
        Averaged SGD, which steadies the result of few epochs (SGD only).
    random_state : int, default=0
        Seeds the shuffles of the epochs (and the folds of ``probability``).
    probability : bool, default=False
        ``model='linear'``: give a loss without probabilities of its own ('hinge',
        'squared_hinge') calibrated probabilities, Platt's sigmoids fitted on 5 held-out
        folds (:class:`LinearClassifier` ``probability``; 6 fits). Refused with
        ``model='nbsvm'``, which gives scores only.
    n_jobs : int or None, default=None
        Threads: of the featurizer (BagOfWords ``n_jobs``; same features for any value),
        over the one-vs-rest models of a multi-class problem (the model does not depend on
        it), or within one binary or softmax model (see ``parallel``).
    parallel : {'hogwild', 'deterministic'}, default='hogwild'
        ``model='linear'``: how ``n_jobs`` threads train one model
        (:class:`LinearClassifier` ``parallel``; SGD only).
    solver : {'auto', 'sgd', 'cd'}, default='auto'
        ``model='linear'``: :class:`LinearClassifier` ``solver``. NBSVM runs SGD: it takes
        'auto' or 'sgd'.

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
    auto = isinstance(C, str) and C == "auto"
    exact = model == "linear" and fit_solver(solver, loss or "hinge") != "sgd"
    if exact and epochs is not None:
        raise ValueError(f"text_pipeline: epochs={epochs!r} sets SGD epochs, but "
                         f"solver={solver!r} fits loss={loss or 'hinge'!r} by its exact "
                         "solver, which stops at its duality gap: give solver='sgd' "
                         "(--solver sgd), or no epochs.")
    given_epochs, epochs = epochs, _EPOCHS[model] if epochs is None else epochs
    if model == "linear":
        if beta is not None:
            raise ValueError(f"text_pipeline: beta={beta!r} interpolates the weights of an "
                             "NBSVM; give model='nbsvm', or no beta.")
        weighting = weighting or "tfidf"
        values = {"weighting": weighting, "bias": True,
                  "sublinear_tf": weighting == "tfidf"}
        if auto:
            if probability:
                raise ValueError("text_pipeline: probability=True calibrates a model of one "
                                 "C; give a number C, or no probability.")
            classifier = LinearClassifierCV(
                losses=loss or "auto", cv=3, solver=solver, fit_intercept=False,
                random_state=random_state, n_jobs=n_jobs,
                **({} if given_epochs is None else {"max_iter": given_epochs}))
        else:
            sgd = {} if exact else {"max_iter": epochs, "tol": None, "average": average,
                                    "parallel": parallel}
            classifier = LinearClassifier(loss or "hinge", C=C, solver=solver,
                                          random_state=random_state, fit_intercept=False,
                                          probability=probability, n_jobs=n_jobs, **sgd)
    else:
        if solver not in ("auto", "sgd"):
            raise ValueError(f"text_pipeline: solver={solver!r}: NBSVM runs SGD; give "
                             "model='linear', or solver='sgd' (--solver sgd).")
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
        classifier = NBSVM(C, loss=loss or "hinge", max_iter=epochs, average=average,
                           random_state=random_state, n_jobs=n_jobs)
        if beta is not None:
            classifier.set_params(beta=beta)
    featurizer = BagOfWords(n_features, token_pattern=tokenizer, ngram_range=(1, ngrams),
                            min_df=min_df, n_jobs=n_jobs, **values)
    featurizer.check_params()
    classifier.check_params()
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
        extra = featurizer_extra(featurizer)
        n_in = getattr(classifier, "n_features_in_", None)
        if n_in not in (None, featurizer.n_features_out_):
            raise ValueError(f"the classifier takes {n_in} features but the featurizer gives "
                             f"{featurizer.n_features_out_}; fit the pipeline as a whole.")
    except (ValueError, Problem) as exc:
        raise ValueError(f"cannot save model to '{path}': {exc}") from None
    persist.save_model(path, classifier, extra=extra, state=state)


def featurizer_extra(featurizer):
    """The ``extra`` of :func:`~fasttext_lin.persist.save_model` that stores a fitted
    :class:`BagOfWords` in a text model file (see the module docstring).

    Raises
    ------
    ValueError
        If it is not fitted; :class:`~fasttext_lin._model_file.Problem` for a parameter a
        model file cannot hold.
    """
    state, arrays = featurizer.to_arrays()
    metadata = {"class": "BagOfWords", "version": state["version"],
                "params": params_to_json(state["params"]), "fitted": state["fitted"]}
    return {"arrays": {f"{_FEATURIZER}/{name}": a for name, a in arrays.items()},
            "metadata": {_FEATURIZER: metadata}}


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
    with loading(path):
        featurizer = featurizer_from_extra(extra, classifier)
    return Pipeline(list(zip(STEPS, (featurizer, classifier))))


def featurizer_from_extra(extra, classifier):
    """The :class:`BagOfWords` that :func:`featurizer_extra` stored, checked against the
    ``classifier`` it feeds.

    Raises
    ------
    fasttext_lin._model_file.Problem
        Naming what is wrong (:func:`~fasttext_lin._model_file.loading` adds the path).
    """
    metadata = extra["metadata"].get(_FEATURIZER)
    if metadata is None:
        raise Problem("it holds a classifier without a featurizer (saved by save_model, not "
                      "save_text_model): load it with load_model and give it feature vectors.")
    where = f"extra metadata {_FEATURIZER!r}"
    if not isinstance(metadata, dict) or metadata.get("class") != "BagOfWords":
        raise Problem(f"{where} is not a BagOfWords.")
    state = {"version": require(metadata, "version", int, where),
             "params": params_from_json(require(metadata, "params", dict, where)),
             "fitted": require(metadata, "fitted", dict, where)}
    arrays = {name[len(_FEATURIZER) + 1:]: a for name, a in extra["arrays"].items()
              if name.startswith(_FEATURIZER + "/")}
    try:
        featurizer = BagOfWords.from_arrays(state, arrays)
    except ValueError as exc:
        raise Problem(str(exc)) from None
    if classifier.n_features_in_ != featurizer.n_features_out_:
        raise Problem(f"the classifier takes {classifier.n_features_in_} features but the "
                      f"featurizer gives {featurizer.n_features_out_}.")
    return featurizer
