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
# LinearClassifier's ``solver`` values: SGD epochs, dual coordinate descent ('cd'), or 'auto'.
SOLVERS = ("sgd", "cd", "auto")
# The exact solver of each loss that has one: what solver='auto' runs in ``fit``.
EXACT_SOLVERS = {"hinge": "cd", "squared_hinge": "cd", "log_loss": "cd"}
# LinearClassifier's parameters that only SGD uses (unused when ``fit`` runs an exact solver).
SGD_PARAMS = ("learning_rate", "eta0", "power_t", "n_iter_no_change", "shuffle",
              "intercept_decay", "average", "parallel")


def fit_solver(solver, loss):
    """The solver that ``fit`` runs for the parameters ``solver`` and ``loss``: 'auto' is
    the loss's exact solver, or 'sgd' for a loss without one."""
    return EXACT_SOLVERS.get(loss, "sgd") if solver == "auto" else solver
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
