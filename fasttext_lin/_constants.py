"""The choice lists and presets that the estimators, the text models and the command line share.

Plain Python values only: the command line builds its parser from them without importing
NumPy, scikit-learn or Numba. The kernels map the loss and schedule names to their own integer
codes (``_sgd_kernels.LOSS_CODES``, ``SCHEDULE_CODES``); tests check that both agree.
"""

# LinearClassifier's ``loss`` values, sorted; 'softmax' has a kernel of its own.
LOSSES = ("hinge", "log_loss", "modified_huber", "softmax", "squared_error", "squared_hinge")
# Losses that give probabilities without calibration.
PROBA_LOSSES = ("log_loss", "modified_huber", "softmax")
# LinearClassifier's ``learning_rate`` values.
SCHEDULES = ("constant", "optimal", "invscaling", "adaptive")
# LinearClassifier's ``solver`` values: SGD epochs, dual coordinate descent ('cd'), the
# trust-region Newton method of 'softmax' and 'log_loss' ('newton'), or 'auto'.
SOLVERS = ("sgd", "cd", "newton", "auto")
# The solvers whose intercept is the weight of a regularised bias feature (liblinear's).
BIAS_FEATURE_SOLVERS = ("cd", "newton")
# The exact solvers' tol when tol=None: the relative duality gap to reach.
EXACT_TOL = 1e-4
# The exact solver of each loss that has one: what solver='auto' runs in ``fit`` (log loss:
# on wide data; see fit_solver).
EXACT_SOLVERS = {"hinge": "cd", "squared_hinge": "cd", "log_loss": "cd", "softmax": "newton"}
# solver='auto' trains log loss by 'newton' on data with fewer features than rows, where the
# dual's passes are slow to converge and the primal's Newton steps are cheap, else by 'cd'.
TALL_EXACT_SOLVERS = {"log_loss": "newton"}


def fit_solver(solver, loss, shape=None):
    """The solver that ``fit`` runs for the parameters ``solver`` and ``loss`` on data of
    ``shape`` ``(n_samples, n_features)``: 'auto' is the loss's exact solver, or 'sgd' for
    a loss without one. Log loss's is 'newton' when ``n_features < n_samples``, else 'cd'
    (also when ``shape`` is None, unknown)."""
    if solver != "auto":
        return solver
    if shape is not None and shape[1] < shape[0] and loss in TALL_EXACT_SOLVERS:
        return TALL_EXACT_SOLVERS[loss]
    return EXACT_SOLVERS.get(loss, "sgd")


# LinearClassifier's parameters that only SGD uses (unused when ``fit`` runs an exact solver).
SGD_PARAMS = ("learning_rate", "eta0", "power_t", "n_iter_no_change", "shuffle",
              "intercept_decay", "average", "parallel")


# How ``n_jobs`` threads train one model.
PARALLEL_MODES = ("hogwild", "deterministic")
# BagOfWords' ``weighting`` and ``token_pattern`` values.
WEIGHTINGS = ("binary", "count", "tfidf", "nb")
TOKEN_PATTERNS = ("default", "whitespace")
# The classifiers of a text pipeline (``text_pipeline(model=...)``).
TEXT_MODELS = ("linear", "nbsvm")
# Weight encodings of a quantized model file.
QUANTIZED_WEIGHTS = ("float16", "int8")

# Values of C searched by cross-validation (the LIBSVM protocol's, ``cv``'s default).
GRID = (0.01, 0.1, 1.0, 10.0, 100.0)
# Epochs of LinearClassifier on LIBSVM data, per loss (``train`` and the LIBSVM protocol):
# past these, CV and test accuracy stay flat on a1a and a9a.
OUR_EPOCHS = {"hinge": 20, "squared_hinge": 20, "log_loss": 10}
# Epoch counts tried in the protocol's objective study against liblinear.
EPOCH_LADDER = (10, 20, 30, 50, 100, 200, 300, 500, 1000, 2000, 3000, 5000)
