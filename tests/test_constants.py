"""_constants: the shared choice lists agree with the modules that act on them, and importing
them imports nothing heavy (the command line builds its parser from them)."""

import subprocess
import sys

from fasttext_lin import _constants as C
from fasttext_lin import _sgd_kernels as K
from fasttext_lin import featurize, persist, text_model


def test_choice_lists_match_their_users():
    assert list(C.LOSSES) == sorted({*K.LOSS_CODES, "softmax"})
    assert set(C.PROBA_LOSSES) <= set(C.LOSSES)
    assert set(C.SCHEDULES) == set(K.SCHEDULE_CODES)
    assert set(C.OUR_EPOCHS) <= set(C.LOSSES)
    assert tuple(C.WEIGHTINGS) == tuple(featurize._WEIGHTINGS)
    assert tuple(C.TOKEN_PATTERNS) == tuple(featurize._TOKEN_PATTERNS)
    assert tuple(C.QUANTIZED_WEIGHTS) == tuple(persist.WEIGHTS)
    assert tuple(C.TEXT_MODELS) == tuple(text_model.MODELS)
    assert list(C.EPOCH_LADDER) == sorted(C.EPOCH_LADDER) and list(C.GRID) == sorted(C.GRID)


def test_import_is_light():
    code = ("import sys, fasttext_lin._constants; "
            "print(sorted(m for m in ('numpy', 'scipy', 'sklearn', 'numba') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]"


def test_exact_solvers_train_their_losses():
    from fasttext_lin import _cd
    from fasttext_lin.linear_model import _SOLVERS

    for loss, solver in C.EXACT_SOLVERS.items():
        assert solver in C.SOLVERS and solver in _SOLVERS and loss in C.LOSSES
    assert {loss for loss, s in C.EXACT_SOLVERS.items() if s == "cd"} == set(_cd.LOSSES)
    assert set(C.EXACT_SOLVERS.values()) == set(C.BIAS_FEATURE_SOLVERS)
    assert C.fit_solver("auto", "hinge") == "cd"
    assert C.fit_solver("auto", "modified_huber") == "sgd"
    assert C.fit_solver("sgd", "hinge") == "sgd"


def test_auto_trains_log_loss_by_newton_on_tall_data_only():
    assert C.fit_solver("auto", "log_loss", (32561, 124)) == "newton"
    assert C.fit_solver("auto", "log_loss", (11314, 130109)) == "cd"
    assert C.fit_solver("auto", "log_loss", (100, 100)) == "cd"
    assert C.fit_solver("auto", "log_loss") == "cd"
    # The shape decides log loss only.
    assert C.fit_solver("auto", "hinge", (32561, 124)) == "cd"
    assert C.fit_solver("auto", "softmax", (10, 1000)) == "newton"
    assert C.fit_solver("cd", "log_loss", (32561, 124)) == "cd"
    assert set(C.TALL_EXACT_SOLVERS) <= set(C.EXACT_SOLVERS)


def test_auto_fit_runs_the_rule():
    import numpy as np
    import scipy.sparse as sp

    from fasttext_lin import LinearClassifier

    rng = np.random.default_rng(0)
    y = np.arange(60) % 2
    for n_features, trained_by_cd in [(5, False), (200, True)]:
        X = sp.random(60, n_features, density=0.3, format="csr", random_state=rng)
        model = LinearClassifier("log_loss", solver="auto", C=1.0).fit(X, y)
        # dual_coef_ belongs to 'cd' fits only.
        assert hasattr(model, "dual_coef_") == trained_by_cd
