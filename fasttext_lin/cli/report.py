"""What the commands print: progress bars, the classifier trained, labels as written, scores."""

import sys


def progress_bar(args, **kwargs):
    """A tqdm bar on stderr; none with ``-q`` or when stderr is not a terminal."""
    from tqdm import tqdm

    # disable=None: no bar when stderr is not a terminal.
    return tqdm(disable=True if args.quiet else None, file=sys.stderr, leave=False, **kwargs)


def classifier_line(classifier):
    """What trains: ``classifier: NBSVM (beta 0.25, hinge, 30 epochs, averaged)``, or for an
    exact solver ``classifier: LinearClassifier (hinge, solver cd to a relative duality gap
    of 0.001, 12 passes)``."""
    from .._constants import TALL_EXACT_SOLVERS, fit_solver

    name = type(classifier).__name__
    if hasattr(classifier, "losses"):
        losses = classifier.losses
        losses = losses if isinstance(losses, str) else ", ".join(losses)
        return (f"classifier: {name} (losses {losses}, C along a warm-started path, solver "
                f"{classifier.solver})")
    beta = f"beta {classifier.beta}, " if hasattr(classifier, "beta") else ""
    if classifier.C == "auto":
        return f"classifier: {name} ({beta}{classifier.loss}, C auto, exact solver)"
    solver = fit_solver(getattr(classifier, "solver", "sgd"), classifier.loss)
    if solver == "sgd":
        how = f"{classifier.max_iter} epochs{', averaged' if classifier.average else ''}"
    else:
        if classifier.solver == "auto" and classifier.loss in TALL_EXACT_SOLVERS:
            # The data's shape decides: name both.
            solver = f"{TALL_EXACT_SOLVERS[classifier.loss]} or {solver}"
        passes = f", {classifier.n_iter_} passes" if hasattr(classifier, "n_iter_") else ""
        how = f"solver {solver} to a relative duality gap of {classifier.tol:g}{passes}"
    calibrated = (", probabilities by Platt scaling on held-out folds"
                  if hasattr(classifier, "calibration_") else "")
    return f"classifier: {name} ({beta}{classifier.loss}, {how}{calibrated})"


def shown_labels(labels, limit=10):
    """The first ``limit`` labels, comma-separated, then ``...`` if there are more."""
    shown = ", ".join(label_strings(labels[:limit]))
    return shown + (", ..." if len(labels) > limit else "")


def label_strings(labels):
    """Labels as a user wrote them: the float labels of LIBSVM files without a needless
    ``.0`` (``1``, ``-1``, ``0.5``); other labels as ``str`` gives them.

    Returns
    -------
    list of str
    """
    import numpy as np

    labels = np.asarray(labels)
    if labels.dtype.kind != "f":
        return labels.astype(str).tolist()
    return [str(int(v)) if v.is_integer() else str(v) for v in labels.tolist()]


def print_report(y, predicted, classes):
    """Accuracy, scikit-learn's classification report and the confusion matrix."""
    import numpy as np
    from sklearn.metrics import classification_report, confusion_matrix

    names = label_strings(classes)
    print(f"accuracy: {np.mean(predicted == y):.4f}")
    print(classification_report(y, predicted, labels=classes, target_names=names, digits=4,
                                zero_division=0))
    print("confusion matrix (rows: true label, columns: predicted label):")
    print(_matrix_table(confusion_matrix(y, predicted, labels=classes), names))


def _matrix_table(matrix, names):
    width = max(max(map(len, names)), len(str(matrix.max())))
    lines = [" " * width + " " + " ".join(name.rjust(width) for name in names)]
    lines += [name.rjust(width) + " " + " ".join(str(v).rjust(width) for v in row)
              for name, row in zip(names, matrix)]
    return "\n".join(lines)


def size_text(n_bytes):
    """A file size for people: MB from 100 kB up, else bytes."""
    return f"{n_bytes / 1e6:.2f} MB" if n_bytes >= 100_000 else f"{n_bytes} bytes"

