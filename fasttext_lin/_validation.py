"""Checks shared by the estimators at their public entry points (numpy only)."""

import numpy as np

__all__ = ["check_labels"]


def check_labels(y, name="y"):
    """Refuse labels that numpy would reorder badly or change: str mixed with other types
    (numpy cannot sort them, or turns them all into str), and str holding a NUL character
    (numpy's str arrays drop trailing NULs, so ``classes_`` would not be the labels given).

    Arrays of a non-object dtype are numpy's already and pass as they are.
    """
    if isinstance(y, np.ndarray) and y.dtype != object:
        return
    labels = np.asarray(y, dtype=object)
    if labels.ndim != 1:
        return  # validate_data names the shape
    types = set(map(type, labels))
    texts = {t for t in types if issubclass(t, str)}
    if texts and texts != types:
        text = next(v for v in labels if isinstance(v, str))
        other = next(v for v in labels if not isinstance(v, str))
        raise ValueError(
            f"{name} mixes labels of type str ({text!r}) and {type(other).__name__} "
            f"({other!r}): convert all labels to str, e.g. [str(label) for label in {name}]."
        )
    if texts and "\x00" in "".join(labels):
        label = next(v for v in labels if "\x00" in v)
        raise ValueError(
            f"{name} holds the label {label!r}: labels must not contain NUL characters "
            "(numpy drops trailing ones, so the classes would not be the labels given); "
            "remove them, e.g. label.replace('\\x00', '')."
        )
