"""Smaller copies of model files: weights in fewer bits, near-zero weights pruned."""

import os

from ._io import check_output_path
from ._model_file import loading
from .persist import WHAT, check_quantization, load_model, save_model
from .text_model import featurizer_extra, featurizer_from_extra

__all__ = ["quantize_model"]


def quantize_model(source, output, *, weights="float16", prune=0.0):
    """Write a smaller copy of a model file, its weights stored in fewer bits.

    :func:`~fasttext_lin.persist.load_model` (and
    :func:`~fasttext_lin.text_model.load_text_model` for a text
    model) read the copy like any model file, with ``coef_`` dequantized into the saved
    model's dtype. The copy holds no SGD state (see :func:`~fasttext_lin.persist.save_model`).

    Parameters
    ----------
    source : str or os.PathLike
        A model file of :func:`~fasttext_lin.persist.save_model` or of
        :func:`~fasttext_lin.text_model.save_text_model`.
    output : str or os.PathLike
        The file to write; not ``source``, nor a device, a FIFO or a folder.
    weights : {'float16', 'int8'}, default='float16'
        'float16': half-precision weights (the predictions of the full model, but for
        scores within float16's rounding of zero); 'int8': each row of ``coef_`` as int8
        codes times one float64 scale (its largest magnitude / 127, symmetric): smaller,
        and more predictions move.
    prune : float in [0, 1), default=0.0
        First set to zero the weights with ``|w| <= prune * max|w|`` of their row.

    Returns
    -------
    dict
        ``{"bytes_before": int, "bytes_after": int, "weights": str, "pruned": float}``:
        the two files' sizes, ``weights``, and the fraction of the weights pruning set to
        zero.

    Raises
    ------
    ValueError
        For a bad ``weights`` or ``prune``, an ``output`` that cannot be written (an
        :class:`~fasttext_lin._io.OutputPathError`), or a ``source`` that is not a model
        file (a :class:`~fasttext_lin.persist.ModelFileError`).
    FileNotFoundError
        If ``source`` does not exist.
    """
    check_quantization(weights, prune, "quantize_model")
    check_output_path(output, inputs=[source], what=WHAT)
    estimator, extra = load_model(source, return_extra=True)
    if "featurizer" in extra["metadata"]:
        # Rewrites an older file's vocabulary in the current layout.
        with loading(source):
            extra = featurizer_extra(featurizer_from_extra(extra, estimator))
    pruned = save_model(output, estimator, extra, weights=weights, prune=prune)
    return {"bytes_before": os.path.getsize(source), "bytes_after": os.path.getsize(output),
            "weights": weights, "pruned": pruned}
