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
