"""model_selection: cross-validation of any classifier on raw texts, C chosen in each fold."""

import numpy as np
import pytest
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC

from fasttext_lin import LinearClassifierCV, text_pipeline
from fasttext_lin._constants import GRID
from fasttext_lin.model_selection import cross_validate_text


def test_cross_validate_text_chooses_c_per_fold_and_reports(data):
    texts, y = data
    seen = []
    result = cross_validate_text(text_pipeline(), texts, y, folds=3, grid=(0.1, 1.0),
                                 progress=lambda *a: seen.append(a))
    # The documented protocol written with scikit-learn: a grid search in each outer fold.
    folds = StratifiedKFold(3, shuffle=True, random_state=0)
    search = GridSearchCV(text_pipeline(), {"classifier__C": [0.1, 1.0]}, cv=folds)
    reference = cross_validate(search, np.asarray(texts, dtype=object), y, cv=folds,
                               scoring="accuracy", return_estimator=True)
    np.testing.assert_array_equal(result.fold_accuracy, reference["test_score"])
    assert result.fold_chosen == [s.best_params_["classifier__C"]
                                  for s in reference["estimator"]]
    assert result.mean_accuracy == pytest.approx(np.mean(reference["test_score"]), rel=1e-12)
    assert result.std_accuracy == pytest.approx(np.std(reference["test_score"]), abs=1e-12)
    assert result.mean_accuracy > 0.8 and result.wall_time > 0
    assert [s[0] for s in seen] == [1, 2, 3]
    assert [s[1] for s in seen] == result.fold_accuracy.tolist()
    again = cross_validate_text(text_pipeline(), texts, y, folds=3, grid=(0.1, 1.0))
    np.testing.assert_array_equal(again.fold_accuracy, result.fold_accuracy)


def test_cross_validate_text_runs_any_sklearn_pipeline(data):
    texts, y = data
    pipe = make_pipeline(CountVectorizer(), LinearSVC())
    result = cross_validate_text(pipe, texts, y, folds=2, grid=[0.01, 10.0],
                                 param="linearsvc__C")
    assert result.param == "linearsvc__C" and len(result.fold_chosen) == 2
    assert set(result.fold_chosen) <= {0.01, 10.0} and result.mean_accuracy > 0.8


@pytest.mark.parametrize("grid, expected", [(0.25, 0.25), ([4.0], 4.0), (None, 1.0)])
def test_cross_validate_text_without_search(data, grid, expected):
    texts, y = data
    result = cross_validate_text(text_pipeline(), texts, y, folds=2, grid=grid)
    assert result.fold_chosen == [expected, expected]
    fixed = cross_validate_text(text_pipeline(C=expected), texts, y, folds=2, grid=None)
    np.testing.assert_array_equal(fixed.fold_accuracy, result.fold_accuracy)


def test_cross_validate_text_without_search_on_another_parameter_name(data):
    texts, y = data
    result = cross_validate_text(make_pipeline(CountVectorizer(), LinearSVC()), texts, y,
                                 folds=2, grid=None)
    assert result.fold_chosen == [None, None] and result.mean_accuracy > 0.8


def test_cross_validate_text_uses_shuffled_stratified_folds_seeded_by_random_state(
        make_reviews):
    """The protocol of the documented rt-polarity figure: StratifiedKFold(shuffle, seed)."""
    texts, y = make_reviews(n=90, seed=3)
    texts = np.asarray(texts, dtype=object)
    pipe = text_pipeline(model="nbsvm", ngrams=2)
    result = cross_validate_text(pipe, texts, y, folds=5, grid=1.0, random_state=2)
    expected = [pipe.fit(texts[train], y[train]).score(texts[test], y[test])
                for train, test in StratifiedKFold(5, shuffle=True, random_state=2).split(texts, y)]
    np.testing.assert_array_equal(result.fold_accuracy, expected)
    assert result.fold_chosen == [1.0] * 5


def test_cross_validate_text_checks_lengths(data):
    texts, y = data
    with pytest.raises(ValueError, match="60 texts but 59 labels"):
        cross_validate_text(text_pipeline(), texts, y[:-1], folds=2)


def test_default_search_of_a_linear_classifier_is_the_warm_path(data):
    texts, y = data
    texts = np.asarray(texts, dtype=object)
    result = cross_validate_text(text_pipeline(), texts, y, folds=3)
    inner = StratifiedKFold(3, shuffle=True, random_state=0)
    expected, chosen = [], []
    for train, test in StratifiedKFold(3, shuffle=True, random_state=0).split(texts, y):
        pipe = text_pipeline().set_params(classifier=LinearClassifierCV(
            losses="hinge", cv=inner, fit_intercept=False, random_state=0))
        pipe.fit(texts[train], y[train])
        expected.append(pipe.score(texts[test], y[test]))
        chosen.append(pipe[-1].C_)
    np.testing.assert_array_equal(result.fold_accuracy, expected)
    assert result.fold_chosen == chosen and result.mean_accuracy > 0.8


def test_default_search_of_another_classifier_is_the_shared_grid(data):
    texts, y = data
    result = cross_validate_text(make_pipeline(CountVectorizer(), LinearSVC()), texts, y,
                                 folds=2, param="linearsvc__C")
    assert set(result.fold_chosen) <= set(GRID) and result.mean_accuracy > 0.8
